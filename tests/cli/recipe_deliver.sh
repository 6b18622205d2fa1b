#!/bin/bash
# SPDX-License-Identifier: MIT
# Recipe distribution on loopback (no overlay: [Device] addresses on the
# server, [Peer] addresses on the agents). ntm-devmgr, ntm-recipe-server and
# two ntm-agents (a presence sensor on 127.0.0.2, a lamp on 127.0.0.3):
#  - the sensor, switched on, fetches its provisioning from the devmgr with
#    its secret and writes its node's configuration, once;
#  - a registered recipe is pushed to both devices; the lamp checks its part
#    and its policy, the sensor asks the lamp, both report "active" and the
#    server shows it (ntm-recipe recipe show) and tells the user (events);
#  - the sensor's change then switches the lamp;
#  - a recipe the lamp's policy forbids is refused by the lamp, the sensor
#    refuses it too with the lamp's reason, the server shows both;
#  - a restarted agent keeps its recipes (and fires from them);
#  - a POST to /recipes from anything but the recipe server is refused;
#  - a replaced recipe changes the behaviour (the old one no longer fires);
#  - a deleted recipe is dropped by both devices (deleting -> deleted), no
#    longer fires, stays deleted across an agent restart; another user's
#    token and an unknown name get 404;
#  - a recipe over one CoAP message (about 4 KiB) is installed block-wise;
#  - a trigger device verifying a replaced recipe is not satisfied by the
#    action device's old version;
#    a device offline at its deletion gets it when it is back.
# Kills only the daemons it started.
set -u

top_builddir=${top_builddir:-.}
DEVMGR=${DEVMGR:-$top_builddir/recipe/devmgr/ntm-devmgr}
SERVER=${SERVER:-$top_builddir/recipe/server/ntm-recipe-server}
CLI=${CLI:-$top_builddir/recipe/cli/ntm-recipe}
AGENT=${AGENT:-$top_builddir/recipe/agent/ntm-agent}
NTMCTL=${NTMCTL:-$top_builddir/ntmctl/ntmctl}
for prog in "$DEVMGR" "$SERVER" "$CLI" "$AGENT" "$NTMCTL"; do
	if [ ! -x "$prog" ]; then
		echo "$0: $prog not built" >&2
		exit 99
	fi
done
for t in curl jq; do
	if ! command -v $t > /dev/null; then
		echo "$0: $t missing (scripts/deps.sh test)" >&2
		exit 77
	fi
done
DEVMGR=$(realpath "$DEVMGR")
SERVER=$(realpath "$SERVER")
CLI=$(realpath "$CLI")
AGENT=$(realpath "$AGENT")
NTMCTL=$(realpath "$NTMCTL")

. "$(dirname "$0")/lib.sh"
dm_pid=
rs_pid=
sensor_pid=
lamp_pid=
cli_on_exit() {
	for p in $sensor_pid $lamp_pid $rs_pid $dm_pid; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
}
cli_init recipe_deliver
# One CoAP port for the run (the agents listen on 127.0.0.2 and .3).
PORT=$((20000 + $$ % 20000))

port_of() {
	local p
	for _ in $(seq 1 100); do
		p=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$1")
		if [ -n "$p" ]; then
			echo "$p"
			return 0
		fi
		sleep 0.05
	done
	return 1
}
# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 $n); do
		"$@" 2> /dev/null && return 0
		sleep 0.1
	done
	return 1
}
setv() {
	printf '%s\n' "$2" > "$1.new"
	mv "$1.new" "$1"
}
file_is() {
	[ "$(cat "$1" 2> /dev/null)" = "$2" ]
}
shows() { # RECIPE LINE: `ntm-recipe recipe show RECIPE` prints LINE
	"$CLI" recipe show "$1" 2> /dev/null | grep -qxF -- "$2"
}
shows_re() { # RECIPE REGEX
	"$CLI" recipe show "$1" 2> /dev/null | grep -qE -- "$2"
}

for t in dm_admin dm_server rs_admin; do
	"$CLI" gentoken > "$tmp/$t"
done
printf '[DevMgr]\nListen = 127.0.0.1:0\nDatabase = %s\nAdminTokenFile = %s\nServerTokenFile = %s\n' \
	"$tmp/db/devmgr.db" "$tmp/dm_admin" "$tmp/dm_server" > "$tmp/dm.conf"
"$DEVMGR" -f -c "$tmp/dm.conf" 2> "$tmp/dm.log" &
dm_pid=$!
dm_port=$(port_of "$tmp/dm.log") || { echo "devmgr did not start" >&2; exit 1; }
dm=http://127.0.0.1:$dm_port

{
	printf '[Server]\nListen = 127.0.0.1:0\nDatabase = %s\nAdminTokenFile = %s\n\n' \
		"$tmp/db/recipe.db" "$tmp/rs_admin"
	printf '[DevMgr]\nVendor = acme\nURL = %s\nTokenFile = %s\n\n' "$dm" "$tmp/dm_server"
	printf '[Device]\nName = sensor.home.example\nAddress = 127.0.0.2:%s\n\n' "$PORT"
	printf '[Device]\nName = lamp.home.example\nAddress = 127.0.0.3:%s\n' "$PORT"
} > "$tmp/rs.conf"
start_server() {
	: > "$tmp/rs.log"
	"$SERVER" -f -c "$tmp/rs.conf" 2>> "$tmp/rs.log" &
	rs_pid=$!
	rs_port=$(port_of "$tmp/rs.log") || { echo "recipe server did not start" >&2; exit 1; }
	export NTM_RECIPE_URL=http://127.0.0.1:$rs_port
}
start_server

adm=(-H "Authorization: Bearer $(cat "$tmp/dm_admin")")
for m in 'sensor","links":"</presence>;rt=\"presence\"' 'lamp","links":"</light>;rt=\"light\"'; do
	curl -s -o /dev/null "${adm[@]}" -d "{\"name\":\"$m\"}" "$dm/v1/models"
done
for d in "SN-A sensor sensor.home.example HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" \
	"SN-B lamp lamp.home.example gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdEYj2XkI="; do
	set -- $d
	curl -s -o "$tmp/added-$1" "${adm[@]}" -d "{\"id\":\"$1\",\"model\":\"$2\",\"fqdn\":\"$3\",
		\"public_key\":\"$4\",
		\"dc_endpoint\":\"192.0.2.1:51820\",\"dc_key\":\"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\",
		\"recipe_server\":\"$NTM_RECIPE_URL\"}" "$dm/v1/devices"
done
# The sensor's provisioning secret, as manufactured.
sed -n 's/.*"provisioning_secret":"\([0-9a-f]*\)".*/\1/p' "$tmp/added-SN-A" > "$tmp/secret-a"
grep -qxE "[0-9a-f]{64}" "$tmp/secret-a" || fail "no provisioning secret: $(cat "$tmp/added-SN-A")"
expect_exit 0 "user add" -- "$CLI" -t "$tmp/rs_admin" user add alice
cp "$tmp/out" "$tmp/alice"
export NTM_RECIPE_TOKEN=$tmp/alice
expect_exit 0 "bind sensor" -- "$CLI" device add SN-A
expect_exit 0 "bind lamp" -- "$CLI" device add SN-B

# ---------------------------------------------------------------- the agents
# The lamp's own rule (its agent reads its own sensors; a rule on another
# device's reading would fail closed at run time).
printf 'forbid lamp.home.example/light == true when lamp.home.example/mode == eco\n' \
	> "$tmp/lamp.policy"
agent_conf() { # NAME ADDR OTHER OTHERADDR
	printf '[Agent]\nName = %s\nListen = %s:%s\nDatabase = %s\n' "$1" "$2" "$PORT" \
		"$tmp/db/$1.db"
	printf 'RecipeServer = recipes.home.example\nPollInterval = 50\n'
	[ "$1" = lamp.home.example ] && printf 'Policy = %s\n' "$tmp/lamp.policy"
	printf '[Peer]\nDevice = recipes.home.example\nAddress = 127.0.0.1:%s\n' "$PORT"
	printf '[Peer]\nDevice = %s\nAddress = %s:%s\n' "$3" "$4" "$PORT"
	if [ "$1" = sensor.home.example ]; then
		printf '[Provisioning]\nDevMgr = %s\nSecretFile = %s\n' "$dm" "$tmp/secret-a"
		printf 'NodeConfig = %s\nNodeKeyFile = %s\n' "$tmp/sensor-node.conf" "$tmp/sensor.key"
		printf '[Sensor]\nName = presence\nType = enum\nValues = home, away\n'
		printf 'Driver = simulated\nState = %s\n' "$tmp/presence"
	else
		printf '[Action]\nName = light\nType = boolean\nDriver = simulated\n'
		printf 'State = %s\n' "$tmp/light"
		printf '[Sensor]\nName = mode\nType = enum\nValues = normal, eco\n'
		printf 'Driver = simulated\nState = %s\n' "$tmp/mode"
	fi
}
agent_conf sensor.home.example 127.0.0.2 lamp.home.example 127.0.0.3 > "$tmp/sensor.conf"
agent_conf lamp.home.example 127.0.0.3 sensor.home.example 127.0.0.2 > "$tmp/lamp.conf"
setv "$tmp/presence" away
setv "$tmp/light" false
setv "$tmp/mode" normal
ready_count() { # NAME N: the agent logged "ready" N times
	[ "$(grep -c ' ready: ' "$tmp/$1.log")" = "$2" ]
}
start_agent() { # NAME
	local n
	n=$(grep -c ' ready: ' "$tmp/$1.log" 2> /dev/null)
	"$AGENT" -f -v -c "$tmp/$1.conf" -s "$tmp/$1.sock" 2>> "$tmp/$1.log" &
	eval "${1}_pid=$!"
	wait_for 10 ready_count "$1" $((${n:-0} + 1)) ||
		fail "agent $1 did not start: $(cat "$tmp/$1.log")"
}
start_agent sensor
start_agent lamp

# The sensor fetched its provisioning and wrote its node's configuration.
grep -qxF "Name = sensor.home.example" "$tmp/sensor-node.conf" ||
	fail "node config: $(cat "$tmp/sensor-node.conf")"
grep -qxF "Endpoint = 192.0.2.1:51820" "$tmp/sensor-node.conf" ||
	fail "node config: $(cat "$tmp/sensor-node.conf")"
grep -q "device SN-A fetched its provisioning" "$tmp/dm.log" || fail "devmgr: no provisioning"

# ---------------------------------------------------------------- delivery, verification
printf 'recipe "welcome"\n  when sensor.home.example/presence == home\n  do lamp.home.example/light on\n' \
	> "$tmp/welcome.rcp"
expect_exit 0 "recipe add" -- "$CLI" recipe add "$tmp/welcome.rcp"
wait_for 30 shows welcome "lamp.home.example active" ||
	fail "lamp not active: $("$CLI" recipe show welcome)"
wait_for 30 shows welcome "sensor.home.example active" ||
	fail "sensor not active: $("$CLI" recipe show welcome)"
grep -q "recipe welcome: lamp.home.example confirmed it" "$tmp/sensor.log" ||
	fail "the sensor did not ask the lamp"
expect_exit 0 "events" -- "$CLI" events
grep -qF "recipe welcome on lamp.home.example: active" "$tmp/out" || fail "events: $(cat "$tmp/out")"

setv "$tmp/presence" home
wait_for 20 file_is "$tmp/light" true || fail "the lamp did not switch on"

wait_for 20 grep -q "welcome/1/0 on lamp.home.example/light: acknowledged" "$tmp/sensor.log" ||
	fail "no acknowledgement at the sensor"

# ---------------------------------------------------------------- refused by the lamp's policy
printf 'recipe "night"\n  when sensor.home.example/presence == away and lamp.home.example/mode == eco\n  do lamp.home.example/light on\n' \
	> "$tmp/night.rcp"
expect_exit 0 "recipe add night" -- "$CLI" recipe add "$tmp/night.rcp"
wait_for 30 shows_re night "^lamp.home.example refused: policy of lamp.home.example: " ||
	fail "lamp did not refuse: $("$CLI" recipe show night)"
wait_for 30 shows_re night "^sensor.home.example refused: lamp.home.example refused: " ||
	fail "sensor did not refuse: $("$CLI" recipe show night)"
setv "$tmp/light" false
setv "$tmp/presence" away
setv "$tmp/mode" eco
sleep 1
file_is "$tmp/light" false || fail "the refused recipe acted"

# The state changed after registration: the lamp's run-time check refuses.
setv "$tmp/presence" home
wait_for 20 grep -q "welcome/2/0 on lamp.home.example/light: refused by the device" \
	"$tmp/sensor.log" || fail "no run-time refusal reported at the sensor"
file_is "$tmp/light" false || fail "the lamp acted in eco mode"
setv "$tmp/mode" normal
setv "$tmp/presence" away

# ---------------------------------------------------------------- only the server installs
if command -v coap-client-notls > /dev/null; then
	r=
	for _ in $(seq 1 10); do
		r=$(timeout 20 coap-client-notls -a 127.0.0.4 -m post -t text/plain \
			-e "$(cat "$tmp/welcome.rcp")" "coap://127.0.0.3:$PORT/recipes" 2>&1 || true)
		case "$r" in "5.03"*) sleep 0.3 ;; *) break ;; esac
	done
	case "$r" in "4.03 refused: only the recipe server"*) ;; *) fail "foreign POST: '$r'" ;; esac
fi

# ---------------------------------------------------------------- restart keeps the recipes
kill "$sensor_pid"
wait "$sensor_pid"
sensor_pid=
kill "$rs_pid"
wait "$rs_pid"
rs_pid=
start_agent sensor
[ "$(grep -c 'provisioning: asking' "$tmp/sensor.log")" = 1 ] || fail "provisioning fetched again"
"$NTMCTL" -s "$tmp/sensor.sock" --json recipes > "$tmp/recipes.json" || fail "ntmctl recipes"
[ "$(jq -r '.[] | select(.name == "welcome") | .state' "$tmp/recipes.json")" = active ] ||
	fail "welcome not kept: $(cat "$tmp/recipes.json")"
[ "$(jq -r '.[] | select(.name == "night") | .state' "$tmp/recipes.json")" = refused ] ||
	fail "night not kept: $(cat "$tmp/recipes.json")"
setv "$tmp/presence" home
wait_for 20 file_is "$tmp/light" true || fail "no firing after the restart (server stopped)"

start_server
expect_exit 0 "recipe show after restarts" -- "$CLI" recipe show welcome
expect_stdout "recipe show after restarts" "sensor.home.example active"

# ---------------------------------------------------------------- replace, delete
acks() { # the sensor's acknowledged firings of welcome
	grep -c "welcome/[0-9]*/0 on lamp.home.example/light: acknowledged" "$tmp/sensor.log"
}
expect_exit 0 "user add bob" -- "$CLI" -t "$tmp/rs_admin" user add bob
cp "$tmp/out" "$tmp/bob"
expect_exit 2 "bob deletes alice's recipe" -- "$CLI" -t "$tmp/bob" recipe delete welcome
expect_exit 2 "bob replaces alice's recipe" -- "$CLI" -t "$tmp/bob" recipe replace welcome \
	"$tmp/welcome.rcp"
expect_exit 2 "delete an unknown recipe" -- "$CLI" recipe delete nothing
shows welcome "sensor.home.example active" || fail "bob changed welcome"

# The replacement switches the lamp on when the user is away (not home).
setv "$tmp/presence" home
sed 's/== home/== away/' "$tmp/welcome.rcp" > "$tmp/welcome2.rcp"
expect_exit 0 "recipe replace" -- "$CLI" recipe replace welcome "$tmp/welcome2.rcp"
expect_stdout "recipe replace" "replaced welcome 2"
wait_for 30 shows welcome "lamp.home.example active" ||
	fail "lamp not active after the replacement: $("$CLI" recipe show welcome)"
wait_for 30 shows welcome "sensor.home.example active" ||
	fail "sensor not active after the replacement: $("$CLI" recipe show welcome)"
shows_re welcome "when sensor.home.example/presence == away" ||
	fail "the server does not show the new text: $("$CLI" recipe show welcome)"
grep -q "recipe welcome: replaced by the recipe server" "$tmp/sensor.log" ||
	fail "the sensor did not replace welcome"
setv "$tmp/light" false
setv "$tmp/presence" away
wait_for 20 file_is "$tmp/light" true || fail "the replaced recipe did not fire (away)"
setv "$tmp/light" false
setv "$tmp/presence" home
sleep 2
file_is "$tmp/light" false || fail "the old version of welcome still fires (home)"

# Deleted: both devices drop it; the trigger no longer fires the action.
n_acks=$(acks)
expect_exit 0 "recipe delete" -- "$CLI" recipe delete welcome
expect_stdout "recipe delete" "welcome deleting"
wait_for 30 shows welcome "lamp.home.example deleted" ||
	fail "lamp did not delete: $("$CLI" recipe show welcome)"
wait_for 30 shows welcome "sensor.home.example deleted" ||
	fail "sensor did not delete: $("$CLI" recipe show welcome)"
expect_exit 0 "recipe list after delete" -- "$CLI" recipe list
expect_stdout "recipe list after delete" "welcome 0 deleted"
expect_exit 0 "events after delete" -- "$CLI" events
grep -qF "recipe welcome deleted from every device" "$tmp/out" ||
	fail "no deletion event: $(cat "$tmp/out")"
grep -q "recipe welcome: deleted by the recipe server" "$tmp/lamp.log" ||
	fail "the lamp did not log the deletion"
setv "$tmp/presence" away
sleep 1
setv "$tmp/presence" home
sleep 2
file_is "$tmp/light" false || fail "the deleted recipe fired"
[ "$(acks)" = "$n_acks" ] || fail "the deleted recipe fired: $(acks) acks, was $n_acks"
expect_exit 2 "delete again" -- "$CLI" recipe delete welcome

# An agent restart keeps it deleted.
kill "$sensor_pid"
wait "$sensor_pid"
sensor_pid=
start_agent sensor
"$NTMCTL" -s "$tmp/sensor.sock" --json recipes > "$tmp/recipes.json" || fail "ntmctl recipes"
[ -z "$(jq -r '.[] | select(.name == "welcome") | .state' "$tmp/recipes.json")" ] ||
	fail "welcome back after the restart: $(cat "$tmp/recipes.json")"
setv "$tmp/presence" away
sleep 1
setv "$tmp/presence" home
sleep 2
file_is "$tmp/light" false || fail "the deleted recipe fired after the restart"

# ---------------------------------------------------------------- block-wise
pad=$(printf '%0240d' 0 | tr 0 x)
{
	printf 'recipe "big"\n  when sensor.home.example/presence == away\n'
	printf '  do lamp.home.example/light on\n'
	for i in $(seq 1 15); do
		printf '  notify owner "%02d %s"\n' "$i" "$pad"
	done
} > "$tmp/big.rcp"
[ "$(wc -c < "$tmp/big.rcp")" -gt 3500 ] || fail "big.rcp is not big"
expect_exit 0 "recipe add big" -- "$CLI" recipe add "$tmp/big.rcp"
wait_for 30 shows big "lamp.home.example active" ||
	fail "big not active on the lamp: $("$CLI" recipe show big | tail -n 3)"
wait_for 30 shows big "sensor.home.example active" ||
	fail "big not active on the sensor: $("$CLI" recipe show big | tail -n 3)"
"$NTMCTL" -s "$tmp/lamp.sock" --json recipes > "$tmp/recipes.json" || fail "ntmctl recipes"
[ "$(jq -r '.[] | select(.name == "big") | .state' "$tmp/recipes.json")" = active ] ||
	fail "big not on the lamp: $(cat "$tmp/recipes.json")"
setv "$tmp/presence" away
wait_for 20 file_is "$tmp/light" true || fail "the big recipe did not fire"

# Over the device limit: refused at registration with the reason.
{
	printf 'recipe "huge"\n  when sensor.home.example/presence == away\n'
	for i in $(seq 1 16); do
		printf '  do lamp.home.example/light on'
		for k in 1 2 3 4 5 6 7 8; do printf ' p%d="%s"' $k "$pad"; done
		printf '\n'
	done
} > "$tmp/huge.rcp"
expect_exit 1 "recipe add huge" -- "$CLI" recipe add "$tmp/huge.rcp"
grep -q "413: .*over the 16384 a device installs" "$tmp/err" || fail "huge: $(cat "$tmp/err")"

# A replacement the lamp has not got yet: the sensor, verifying the new
# version, is not satisfied by the lamp's old one (even with the server down).
kill "$lamp_pid"
wait "$lamp_pid"
lamp_pid=
sed 's/"01 /"01 v2 /' "$tmp/big.rcp" > "$tmp/big2.rcp"
expect_exit 0 "recipe replace big" -- "$CLI" recipe replace big "$tmp/big2.rcp"
wait_for 30 shows big "sensor.home.example verifying" ||
	fail "sensor not verifying big v2: $("$CLI" recipe show big | tail -n 3)"
kill "$rs_pid"
wait "$rs_pid"
rs_pid=
start_agent lamp
sleep 4
"$NTMCTL" -s "$tmp/sensor.sock" --json recipes > "$tmp/recipes.json" || fail "ntmctl recipes"
[ "$(jq -r '.[] | select(.name == "big") | .state' "$tmp/recipes.json")" = verifying ] ||
	fail "the lamp's old version confirmed the new one: $(cat "$tmp/recipes.json")"
start_server
wait_for 60 shows big "sensor.home.example active" ||
	fail "big v2 not active on the sensor: $("$CLI" recipe show big | tail -n 3)"
shows big "lamp.home.example active" || fail "big v2 not active on the lamp"

# A device offline at the deletion gets it when it is back.
kill "$lamp_pid"
wait "$lamp_pid"
lamp_pid=
expect_exit 0 "recipe delete big" -- "$CLI" recipe delete big
wait_for 30 shows big "sensor.home.example deleted" ||
	fail "sensor did not delete big: $("$CLI" recipe show big | tail -n 3)"
sleep 2
shows big "lamp.home.example deleting" ||
	fail "the offline lamp is not deleting: $("$CLI" recipe show big | tail -n 3)"
start_agent lamp
wait_for 60 shows big "lamp.home.example deleted" ||
	fail "lamp did not delete big when back: $("$CLI" recipe show big | tail -n 3)"
"$NTMCTL" -s "$tmp/lamp.sock" --json recipes > "$tmp/recipes.json" || fail "ntmctl recipes"
[ -z "$(jq -r '.[] | select(.name == "big") | .state' "$tmp/recipes.json")" ] ||
	fail "big still on the lamp: $(cat "$tmp/recipes.json")"

kill "$dm_pid"
wait "$dm_pid"
dm_pid=
if [ "$failures" -ne 0 ]; then
	tail -n 40 "$tmp/sensor.log" "$tmp/lamp.log" >&2
fi
cli_finish recipe_deliver "$tmp/rs.log"
