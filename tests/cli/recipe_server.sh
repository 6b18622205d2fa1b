#!/bin/bash
# SPDX-License-Identifier: MIT
# ntm-devmgr + ntm-recipe-server + ntm-recipe on loopback (random ports,
# temp dir): config errors with file:line, the vendor adds a model and two
# devices, a device fetches its provisioning, the user binds both through
# the devmgr, registers a recipe; a malformed recipe is refused with
# FILE:LINE:COL and nothing is stored; a missing or invalid token is 401;
# the event list tells the user; a restart keeps everything. Kills only the
# daemons it started.
set -u

top_builddir=${top_builddir:-.}
DEVMGR=${DEVMGR:-$top_builddir/recipe/devmgr/ntm-devmgr}
SERVER=${SERVER:-$top_builddir/recipe/server/ntm-recipe-server}
CLI=${CLI:-$top_builddir/recipe/cli/ntm-recipe}
for prog in "$DEVMGR" "$SERVER" "$CLI"; do
	if [ ! -x "$prog" ]; then
		echo "$0: $prog not built" >&2
		exit 99
	fi
done
if ! command -v curl > /dev/null; then
	echo "$0: curl missing (scripts/deps.sh test)" >&2
	exit 77
fi
DEVMGR=$(realpath "$DEVMGR")
SERVER=$(realpath "$SERVER")
CLI=$(realpath "$CLI")

. "$(dirname "$0")/lib.sh"
dm_pid=
rs_pid=
cli_on_exit() {
	for p in $rs_pid $dm_pid; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
}
cli_init recipe_server

# The port a daemon logged ("listening on port N"), waiting for it.
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

for t in dm_admin dm_server rs_admin; do
	"$CLI" gentoken > "$tmp/$t"
done

# Config errors name file and line.
printf '[DevMgr]\nListen = 127.0.0.1:0\nDatabase = relative.db\n' > "$tmp/bad.conf"
expect_exit 1 "bad devmgr config" -- "$DEVMGR" -f -c "$tmp/bad.conf"
expect_stderr "bad devmgr config" "bad.conf:3: invalid Database"
chmod 644 "$tmp/dm_admin"
printf '[DevMgr]\nListen = 127.0.0.1:0\nDatabase = %s\nAdminTokenFile = %s\nServerTokenFile = %s\n' \
	"$tmp/db/devmgr.db" "$tmp/dm_admin" "$tmp/dm_server" > "$tmp/dm.conf"
expect_exit 1 "open admin token" -- "$DEVMGR" -f -c "$tmp/dm.conf"
expect_stderr "open admin token" "dm.conf:4: invalid AdminTokenFile in [DevMgr]"
chmod 600 "$tmp/dm_admin"

"$DEVMGR" -f -c "$tmp/dm.conf" 2> "$tmp/dm.log" &
dm_pid=$!
dm_port=$(port_of "$tmp/dm.log") || fail "devmgr did not start: $(cat "$tmp/dm.log")"
dm=http://127.0.0.1:$dm_port
[ "$(stat -c %a "$tmp/db/devmgr.db")" = 600 ] || fail "devmgr database not 0600"

printf '[Server]\nListen = 127.0.0.1:0\nDatabase = %s\nAdminTokenFile = %s\n\n[DevMgr]\nVendor = acme\nURL = %s\nTokenFile = %s\n' \
	"$tmp/db/recipe.db" "$tmp/rs_admin" "$dm" "$tmp/dm_server" > "$tmp/rs.conf"
"$SERVER" -f -c "$tmp/rs.conf" 2> "$tmp/rs.log" &
rs_pid=$!
rs_port=$(port_of "$tmp/rs.log") || fail "recipe server did not start: $(cat "$tmp/rs.log")"
export NTM_RECIPE_URL=http://127.0.0.1:$rs_port

# The vendor: a model per kind of device, two devices as manufactured.
adm=(-H "Authorization: Bearer $(cat "$tmp/dm_admin")")
for m in 'sensor","links":"</presence>;rt=\"presence\"' 'lamp","links":"</light>;rt=\"light\"'; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "${adm[@]}" -d "{\"name\":\"$m\"}" "$dm/v1/models")
	[ "$code" = 201 ] || fail "add model $m: $code"
done
add_device() { # ID MODEL FQDN KEY
	curl -s "${adm[@]}" -d "{\"id\":\"$1\",\"model\":\"$2\",\"fqdn\":\"$3\",\"public_key\":\"$4\",
		\"dc_endpoint\":\"192.0.2.1:51820\",\"dc_key\":\"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\",
		\"recipe_server\":\"$NTM_RECIPE_URL\"}" "$dm/v1/devices" |
		sed -n 's/.*"provisioning_secret":"\([0-9a-f]*\)".*/\1/p'
}
secret_a=$(add_device SN-A sensor sensor.home.example HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=)
secret_b=$(add_device SN-B lamp lamp.home.example gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdEYj2XkI=)
{ [ ${#secret_a} = 64 ] && [ ${#secret_b} = 64 ]; } || fail "no provisioning secrets"

# A device switched on fetches its provisioning with its secret; nothing else does.
curl -s -H "Authorization: Bearer $secret_a" "$dm/v1/provisioning" > "$tmp/prov"
grep -qF '"fqdn":"sensor.home.example"' "$tmp/prov" || fail "provisioning: $(cat "$tmp/prov")"
grep -qF "127.0.0.1:$rs_port" "$tmp/prov" || fail "provisioning lacks the recipe server: $(cat "$tmp/prov")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$tmp/dm_server")" \
	"$dm/v1/provisioning")
[ "$code" = 401 ] || fail "provisioning with a wrong secret: $code"

# The user: created by the admin, token into a 0600 file.
expect_exit 0 "user add" -- "$CLI" -t "$tmp/rs_admin" user add alice
cp "$tmp/out" "$tmp/alice"
chmod 600 "$tmp/alice"
export NTM_RECIPE_TOKEN=$tmp/alice

# Missing or invalid token: 401 and exit 1.
code=$(curl -s -o /dev/null -w '%{http_code}' "$NTM_RECIPE_URL/v1/devices")
[ "$code" = 401 ] || fail "no token: $code"
"$CLI" gentoken > "$tmp/wrong"
expect_exit 1 "wrong token" -- "$CLI" -t "$tmp/wrong" device list
expect_stderr "wrong token" "401: invalid API token"

# Binding goes through the vendor's devmgr.
expect_exit 0 "device add" -- "$CLI" device add SN-A acme
expect_stdout "device add" 'sensor.home.example sensor </presence>;rt="presence"'
expect_exit 0 "device add (one vendor)" -- "$CLI" device add SN-B
expect_exit 2 "unknown device" -- "$CLI" device add SN-Z
expect_exit 0 "device list" -- "$CLI" device list
expect_stdout "device list" "acme SN-B lamp.home.example lamp"

printf 'recipe "welcome"\n  when sensor.home.example/presence == home\n  do lamp.home.example/light on\n' \
	> "$tmp/good.rcp"
printf 'recipe "broken"\n  when sensor.home.example/presence == home\n  do lamp.home.example/light on bright=\n' \
	> "$tmp/bad.rcp"
expect_exit 0 "recipe add" -- "$CLI" recipe add "$tmp/good.rcp"
expect_stdout "recipe add" "registered welcome"
expect_exit 1 "malformed recipe" -- "$CLI" recipe add "$tmp/bad.rcp"
grep -qE "^$tmp/bad.rcp:3:[0-9]+: " "$tmp/err" || fail "no FILE:LINE:COL: $(cat "$tmp/err")"
expect_exit 0 "recipe list" -- "$CLI" recipe list
expect_stdout "recipe list" "welcome 2"
[ "$(wc -l < "$tmp/out")" = 1 ] || fail "the malformed recipe was stored: $(cat "$tmp/out")"
expect_exit 2 "recipe show unknown" -- "$CLI" recipe show broken
expect_exit 0 "recipe show" -- "$CLI" recipe show welcome
expect_stdout "recipe show" "lamp.home.example pending"
expect_exit 0 "events" -- "$CLI" events
grep -qF "device acme SN-A bound as sensor.home.example" "$tmp/out" || fail "events: $(cat "$tmp/out")"
grep -qF "recipe welcome registered for 2 device(s)" "$tmp/out" || fail "events: $(cat "$tmp/out")"

# Restart: everything is still there.
kill "$rs_pid"
wait "$rs_pid" || fail "recipe server exit status $?"
"$SERVER" -f -c "$tmp/rs.conf" 2> "$tmp/rs.log" &
rs_pid=$!
rs_port=$(port_of "$tmp/rs.log") || fail "recipe server did not restart"
export NTM_RECIPE_URL=http://127.0.0.1:$rs_port
expect_exit 0 "recipe list after restart" -- "$CLI" recipe list
expect_stdout "recipe list after restart" "welcome 2"

kill "$dm_pid"
wait "$dm_pid" || fail "devmgr exit status $?"
dm_pid=
cli_finish recipe_server "$tmp/rs.log"
