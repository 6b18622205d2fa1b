#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Recipes end to end (issue 9, DESIGN "Recipes"): a DC, a relay (RS), a
# public host "hq" with the vendor's ntm-devmgr and the ntm-recipe-server
# (itself an overlay node, recipes.example.net), and two devices, each an
# ntm-node plus an ntm-agent: a (a temperature sensor) behind a cone NAT,
# b (a fan, with its own safety policy) behind a symmetric NAT. Checks:
#  - provisioning: each agent, switched on, fetches its provisioning from
#    the devmgr with its secret and writes its node's configuration, then
#    its OnProvisioned hook starts the node (the script does not), with
#    NTM_NODE_CONFIG naming that configuration; the nodes register with it;
#    the recipe server comes from it too; a restarted agent does not run
#    the hook again;
#  - registration: the user binds both devices through the devmgr and
#    registers a recipe; the server sends it to both devices over the
#    tunnels, b checks it against its policy, a asks b, both report active
#    (ntm-recipe recipe show) and the user is told (events);
#  - a's temperature rises: b's fan switches, a logs b's acknowledgement;
#  - a forbidden combination is refused at registration (422, server
#    policy), and refused at run time by b when b's state changed after
#    registration (a logs the refusal, the fan stays off);
#  - with the recipe server and the devmgr stopped the recipe still fires
#    (nothing central in the path), also after both agents restarted (they
#    keep their recipes);
#  - a POST to a device's /recipes from another overlay node (not the
#    recipe server) is refused, and so is a DELETE;
#  - a recipe of about 4 KiB is installed block-wise through the tunnels;
#  - a deleted recipe is dropped by both devices and no longer fires.
#
# Needs: root, jq, curl, nft; coap-client-notls for the last check.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "recipe_e2e.sh: FAIL: $*" >&2
	for l in agent-a agent-b agent-a-2 agent-b-2 node_a node_b node_hq rsrv; do
		echo "---- $l" >&2
		tail -n 25 "$(tb_log "$l")" >&2 2>/dev/null || true
	done
	exit 1
}

tb_init
ntm_need jq curl
DCBIN=$(tb_bin dc/ntm-dc)
RSBIN=$(tb_bin rs/ntm-rs)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
AGENT=$(tb_bin recipe/agent/ntm-agent)
DEVMGR=$(tb_bin recipe/devmgr/ntm-devmgr)
SERVER=$(tb_bin recipe/server/ntm-recipe-server)
CLI=$(tb_bin recipe/cli/ntm-recipe)
D=$TB_DIR

tb_public_host dc
tb_public_host relay
tb_public_host hq
tb_router r1 cone
tb_router r2 symmetric
tb_nat_host a r1
tb_nat_host b r2
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)
HQ4=$(tb_addr4 hq)

umask 077
ntm_keys "$D" dc relay hq a b
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5 >"$D/dc.conf"
DCSOCK=$D/dc.sock
dcctl() { "$NTMCTL" -s "$DCSOCK" "$@"; }
ctl() {
	local n=$1
	shift
	"$NTMCTL" -s "$D/$n.sock" "$@"
}
is_registered() { [ "$(ctl "$1" --json status | jq -r .dc.state)" = registered ]; }
setv() {
	printf '%s\n' "$2" >"$1.new"
	mv "$1.new" "$1"
}
file_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
rcli() { tb_exec hq env NTM_RECIPE_URL="http://$HQ4:8480" NTM_RECIPE_TOKEN="$D/alice" "$CLI" "$@"; }
shows() { rcli recipe show "$1" 2>/dev/null | grep -qxF -- "$2"; }
recipe_state() { # DEVICE RECIPE
	"$NTMCTL" -s "$D/agent-$1.sock" --json recipes |
		jq -r --arg n "$2" '.[] | select(.name == $n) | .state'
}

# ---------------------------------------------------------------- DC, relay
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" || fail "ntm-dc did not start"
dcctl enroll --relay relay1 "$(cat "$D/relay.pub")" >/dev/null
printf '[RS]\nPrivateKeyFile = %s\nListen = %s:7100, [%s]:7100\n[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' \
	"$D/relay.key" "$(tb_addr4 relay)" "$(tb_addr6 relay)" "$DC4" "$(cat "$D/dc.pub")" >"$D/relay.conf"
tb_spawn relay relay "$RSBIN" -f -c "$D/relay.conf" -s "$D/relay.sock"
tb_wait_for 10 sh -c "'$NTMCTL' -s '$DCSOCK' relays | grep -q relay1" || fail "relay not registered"
for n in hq a b; do
	h=$n
	[ "$n" = hq ] && h=recipes
	dcctl enroll "$h.example.net" "$(cat "$D/$n.pub")" >/dev/null
done

# ---------------------------------------------------------------- hq: devmgr, recipe server and its node
for t in dm_admin dm_server rs_admin; do
	"$CLI" gentoken >"$D/$t"
done
printf '[DevMgr]\nListen = %s:8470\nDatabase = %s\nAdminTokenFile = %s\nServerTokenFile = %s\n' \
	"$HQ4" "$D/state/devmgr.db" "$D/dm_admin" "$D/dm_server" >"$D/dm.conf"
start_devmgr() {
	tb_spawn hq devmgr "$DEVMGR" -f -c "$D/dm.conf"
	PID_dm=$TB_PID
	tb_wait_for 10 grep -q "listening on port" "$(tb_log devmgr)" || fail "devmgr did not start"
}
start_devmgr
printf 'forbid b.example.net/fan == true when b.example.net/mode == eco\n' >"$D/policy"
{
	printf '[Server]\nListen = %s:8480\nDatabase = %s\nAdminTokenFile = %s\n' \
		"$HQ4" "$D/state/recipe.db" "$D/rs_admin"
	printf 'PolicyFile = %s\nAllowFlagged = yes\nNodeSocket = %s\n\n' "$D/policy" "$D/hq.sock"
	printf '[DevMgr]\nVendor = acme\nURL = http://%s:8470\nTokenFile = %s\n' "$HQ4" "$D/dm_server"
} >"$D/rs.conf"
start_server() {
	tb_spawn hq rsrv "$SERVER" -f -v -c "$D/rs.conf"
	PID_rs=$TB_PID
	tb_wait_for 10 grep -q "listening on port" "$(tb_log rsrv)" || fail "recipe server did not start"
}
printf '[Interface]\nPrivateKeyFile = %s\nName = recipes.example.net\n\n[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' \
	"$D/hq.key" "$DC4" "$(cat "$D/dc.pub")" >"$D/hq.conf"
tb_spawn hq node_hq "$NODE" -f -v -c "$D/hq.conf" -i ntm0 -s "$D/hq.sock"
tb_wait_for 15 is_registered hq || fail "the recipe server's node did not register"
start_server

# The vendor registers its model and its two devices as manufactured.
adm=(-H "Authorization: Bearer $(cat "$D/dm_admin")")
dm=http://$HQ4:8470
for m in 'thermo","links":"</temperature>;rt=\"temperature\"' \
	'fan","links":"</fan>;rt=\"fan\",</mode>;rt=\"mode\"'; do
	tb_exec hq curl -sf -o /dev/null "${adm[@]}" -d "{\"name\":\"$m\"}" "$dm/v1/models" ||
		fail "add model $m"
done
add_device() { # ID MODEL HOST
	tb_exec hq curl -sf "${adm[@]}" -d "{\"id\":\"$1\",\"model\":\"$2\",
		\"fqdn\":\"$3.example.net\",\"public_key\":\"$(cat "$D/$3.pub")\",
		\"dc_endpoint\":\"$DC4:7000\",\"dc_key\":\"$(cat "$D/dc.pub")\",
		\"recipe_server\":\"http://recipes.example.net:8480\"}" "$dm/v1/devices" |
		jq -r .provisioning_secret >"$D/$3.secret"
	grep -qxE '[0-9a-f]{64}' "$D/$3.secret" || fail "no provisioning secret for $1"
}
add_device SN-A thermo a
add_device SN-B fan b

# ---------------------------------------------------------------- devices: provisioning, then the node
agent_conf() { # HOST
	printf '[Agent]\nName = %s.example.net\nListen = 0.0.0.0:5683\n' "$1"
	printf 'Database = %s\nNodeSocket = %s\nPollInterval = 50\nActionDeadline = 120\n' \
		"$D/agent-$1.db" "$D/$1.sock"
	[ "$1" = b ] && printf 'Policy = %s\n' "$D/policy"
	printf '[Provisioning]\nDevMgr = %s\nSecretFile = %s\nNodeConfig = %s\nNodeKeyFile = %s\n' \
		"$dm" "$D/$1.secret" "$D/$1.conf" "$D/$1.key"
	printf 'OnProvisioned = %s %s\nOnProvisionedTimeout = 20\n' "$D/start-node" "$1"
	if [ "$1" = a ]; then
		printf '[Sensor]\nName = temperature\nType = number\nDriver = simulated\n'
		printf 'State = %s\n' "$D/a.temperature"
	else
		printf '[Action]\nName = fan\nType = boolean\nDriver = simulated\nState = %s\n' \
			"$D/b.fan"
		printf '[Sensor]\nName = mode\nType = enum\nValues = normal, eco\n'
		printf 'Driver = simulated\nState = %s\n' "$D/b.mode"
	fi
}
# The device's init as OnProvisioned runs it (ntm-agent.service documents
# `systemctl enable --now ntm-node@ntm0.service`): the node, in the device's
# namespace (the agent's), from the configuration the agent just wrote.
cat >"$D/start-node" <<EOF
#!/bin/sh
[ -n "\$NTM_NODE_CONFIG" ] && [ "\$NTM_NODE_NAME" = "\$1.example.net" ] || exit 2
echo "\$NTM_NODE_CONFIG" >>"$D/hook-\$1.ran"
setsid "$NODE" -f -v -c "\$NTM_NODE_CONFIG" -i ntm0 -s "$D/\$1.sock" \\
	>"$D/log/node_\$1.log" 2>&1 </dev/null &
EOF
chmod 0700 "$D/start-node"
agent_conf a >"$D/agent-a.conf"
agent_conf b >"$D/agent-b.conf"
setv "$D/a.temperature" 20
setv "$D/b.fan" false
setv "$D/b.mode" normal
# start_agent HOST RUN: the agent's log is agent-HOST (first run) or agent-HOST-RUN;
# LOG_HOST names the current one.
start_agent() {
	local log=agent-$1
	[ "$2" = 1 ] || log=agent-$1-$2
	tb_spawn "$1" "$log" "$AGENT" -f -v -c "$D/agent-$1.conf" -s "$D/agent-$1.sock"
	eval "PID_agent_$1=\$TB_PID LOG_$1=\$(tb_log \$log)"
	tb_wait_for 40 grep -q ' ready: ' "$(tb_log "$log")" || fail "agent $1 did not start"
}
for n in a b; do
	start_agent $n 1
	grep -qxF "Name = $n.example.net" "$D/$n.conf" || fail "$n: no node config from provisioning"
	grep -q "provisioning: $n.example.net, DC $DC4:7000, recipe server recipes.example.net" \
		"$(tb_log "agent-$n")" || fail "$n: provisioning not logged"
	grep -q "provisioning: OnProvisioned exited 0" "$(tb_log "agent-$n")" ||
		fail "$n: OnProvisioned did not run"
	[ "$(cat "$D/hook-$n.ran")" = "$D/$n.conf" ] || fail "$n: hook ran $(cat "$D/hook-$n.ran")"
done
grep -q "device SN-A fetched its provisioning" "$(tb_log devmgr)" || fail "devmgr: SN-A"
grep -q "device SN-B fetched its provisioning" "$(tb_log devmgr)" || fail "devmgr: SN-B"
for n in a b; do
	tb_wait_for 15 is_registered "$n" || fail "$n did not register with its provisioning"
done

# ---------------------------------------------------------------- user, binding, registration
tb_exec hq env NTM_RECIPE_URL="http://$HQ4:8480" "$CLI" -t "$D/rs_admin" user add alice \
	>"$D/alice" || fail "user add"
rcli device add SN-A >/dev/null || fail "bind SN-A"
rcli device add SN-B >/dev/null || fail "bind SN-B"
cat >"$D/cool.rcp" <<EOF
recipe "cool-down"
  when a.example.net/temperature > 28
  do b.example.net/fan on
EOF
rcli recipe add "$D/cool.rcp" >/dev/null || fail "recipe add"
tb_wait_for 60 shows cool-down "b.example.net active" ||
	fail "b not active: $(rcli recipe show cool-down)"
tb_wait_for 60 shows cool-down "a.example.net active" ||
	fail "a not active: $(rcli recipe show cool-down)"
grep -q "recipe cool-down: b.example.net confirmed it" "$LOG_a" ||
	fail "a did not verify with b"
rcli events >"$D/events"
grep -qF "recipe cool-down on a.example.net: active" "$D/events" || fail "events: $(cat "$D/events")"
echo "# delivered: $(rcli recipe show cool-down | tail -n 2 | tr '\n' ' ')"

# ---------------------------------------------------------------- a fires, b acts, a gets the ack
fire() { # N: temperature down and up again; waits for the N-th firing
	setv "$D/a.temperature" 20
	sleep 0.3
	setv "$D/a.temperature" 31
	tb_wait_for 60 grep -qE "cool-down/$1/0 on b.example.net/fan: (acknowledged|refused|failed)" \
		"$LOG_a" ||
		fail "firing $1 got no answer"
}
fire 1
grep -q "cool-down/1/0 on b.example.net/fan: acknowledged" "$LOG_a" ||
	fail "firing 1 not acknowledged"
file_is "$D/b.fan" true || fail "b's fan did not switch"
# Different NAT kinds (cone, symmetric): the DC gave a and b a relay.
vb4=$(ctl a --json resolve b.example.net | jq -r .vip4)
pab=$(ctl a --json peers | jq -r --arg v "$vb4/32" '.[] | select(.allowed_ips | index($v)) | .path')
echo "# path a -> b: $pab"
[ "$pab" = relay ] || fail "a -> b path '$pab', wanted relay (cone to symmetric NAT)"

# ---------------------------------------------------------------- forbidden combinations
cat >"$D/eco.rcp" <<EOF
recipe "eco-fan"
  when b.example.net/mode == eco
  do b.example.net/fan on
EOF
if rcli recipe add "$D/eco.rcp" >"$D/out" 2>"$D/err"; then
	fail "a forbidden recipe was registered"
fi
grep -q "422" "$D/err" || fail "refusal at registration: $(cat "$D/err")"
setv "$D/b.fan" false
setv "$D/b.mode" eco
sleep 0.3
fire 2
grep -q "cool-down/2/0 on b.example.net/fan: refused by the device" "$LOG_a" ||
	fail "run-time refusal not reported at a"
file_is "$D/b.fan" false || fail "b acted against its policy"
setv "$D/b.mode" normal

# ---------------------------------------------------------------- nothing central in the path
tb_kill "$PID_rs"
tb_kill "$PID_dm"
fire 3
grep -q "cool-down/3/0 on b.example.net/fan: acknowledged" "$LOG_a" ||
	fail "no ack with the recipe server and devmgr stopped"
file_is "$D/b.fan" true || fail "b's fan did not switch without the servers"

# Both agents restart: the recipes stay (the servers are still stopped).
setv "$D/b.fan" false
setv "$D/a.temperature" 20
sleep 0.3
tb_kill "$PID_agent_a"
tb_kill "$PID_agent_b"
start_agent a 2
start_agent b 2
[ "$(recipe_state a cool-down)" = active ] || fail "a lost its recipe: $(recipe_state a cool-down)"
[ "$(recipe_state b cool-down)" = active ] || fail "b lost its recipe: $(recipe_state b cool-down)"
! grep -q 'provisioning: asking' "$LOG_a" || fail "a asked for its provisioning again"
for n in a b; do
	[ "$(wc -l <"$D/hook-$n.ran")" = 1 ] || fail "$n: OnProvisioned ran again after the restart"
done
fire 4
grep -q "cool-down/4/0 on b.example.net/fan: acknowledged" "$LOG_a" ||
	fail "no ack after the restarts"
file_is "$D/b.fan" true || fail "b's fan did not switch after the restarts"

# ---------------------------------------------------------------- only the recipe server installs
if command -v coap-client-notls >/dev/null; then
	vb=$vb4
	r=
	for _ in $(seq 1 10); do
		r=$(tb_exec a timeout 30 coap-client-notls -m post -t text/plain \
			-e "$(cat "$D/cool.rcp")" "coap://$vb/recipes" 2>&1 || true)
		case "$r" in "5.03"*) sleep 0.3 ;; *) break ;; esac
	done
	case "$r" in "4.03 refused: only the recipe server"*) ;; *) fail "a's POST to b: '$r'" ;; esac
fi
# ---------------------------------------------------------------- block-wise, deletion over the overlay
start_server
tb_wait_for 20 rcli recipe list >/dev/null || fail "recipe server did not come back"
pad=$(printf '%0240d' 0 | tr 0 x)
{
	printf 'recipe "big"\n  when a.example.net/temperature > 40\n  do b.example.net/fan on\n'
	for i in $(seq 1 14); do printf '  notify owner "%02d %s"\n' "$i" "$pad"; done
} >"$D/big.rcp"
rcli recipe add "$D/big.rcp" >/dev/null || fail "recipe add big"
tb_wait_for 60 shows big "b.example.net active" || fail "big (block-wise) not active on b"
tb_wait_for 60 shows big "a.example.net active" || fail "big (block-wise) not active on a"
if command -v coap-client-notls >/dev/null; then
	r=
	for _ in $(seq 1 10); do
		r=$(tb_exec a timeout 30 coap-client-notls -m delete \
			"coap://$vb4/recipes?name=cool-down" 2>&1 || true)
		case "$r" in "5.03"*) sleep 0.3 ;; *) break ;; esac
	done
	case "$r" in "4.03 refused: only the recipe server"*) ;; *) fail "a's DELETE to b: '$r'" ;; esac
	[ "$(recipe_state b cool-down)" = active ] || fail "a's DELETE removed b's recipe"
fi
rcli recipe delete cool-down >/dev/null || fail "recipe delete"
tb_wait_for 60 shows cool-down "b.example.net deleted" || fail "b did not delete cool-down"
tb_wait_for 60 shows cool-down "a.example.net deleted" || fail "a did not delete cool-down"
[ -z "$(recipe_state a cool-down)" ] || fail "a still has cool-down"
setv "$D/b.fan" false
setv "$D/a.temperature" 20
sleep 0.3
setv "$D/a.temperature" 31
sleep 3
! grep -q "cool-down/5/0" "$LOG_a" || fail "the deleted recipe fired"
file_is "$D/b.fan" false || fail "b's fan switched after the deletion"
echo "recipe_e2e.sh: ok"
