#!/bin/bash
# SPDX-License-Identifier: MIT
#
# At-least-once delivery over the overlay under loss, and the queue with a
# TTL (issue 9). A DC, device a behind a cone NAT (r1), device b public;
# each an ntm-node and an ntm-agent with NodeSocket. b's actions are
# programs (command driver) that log every run, so "exactly once" is
# counted from what really ran. Checks:
#  - 20 % of the datagrams through r1 dropped in both directions (nftables
#    "numgen random mod 100 < 20 drop" in its forward chain): N firings are
#    all acknowledged and b's program ran exactly once per firing key;
#  - b's agent offline: a firing waits in a's outbox, b comes back within
#    the recipe's TTL ("within 120s") and the action runs once;
#  - a recipe with "within 2s" and b offline longer: a reports the failure
#    (expired), and the action never runs, also after b is back.
#
# Needs: root, jq, nft.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

N=${RECIPE_LOSS_FIRINGS:-20}

fail() {
	echo "recipe_loss.sh: FAIL: $*" >&2
	for l in agent-a agent-b agent-b-2 agent-b-3; do
		echo "---- $l" >&2
		tail -n 30 "$(tb_log "$l")" >&2 2>/dev/null || true
	done
	exit 1
}

tb_init
command -v jq >/dev/null || { [ "${CI:-}" = true ] && fail "jq missing"; exit 77; }
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
AGENT=$(tb_bin recipe/agent/ntm-agent)
D=$TB_DIR

tb_public_host dc
tb_router r1 cone
tb_nat_host a r1
tb_public_host b
DC4=$(tb_addr4 dc)

umask 077
for k in dc a b; do
	"$NTMCTL" genkey >"$D/$k.key"
	"$NTMCTL" pubkey <"$D/$k.key" >"$D/$k.pub"
done
ntm_dc_config "$D/dc.key" "$DC4" "$(tb_addr6 dc)" "$D/state/dc.db" 5 >"$D/dc.conf"
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
is_registered() { [ "$("$NTMCTL" -s "$D/$1.sock" --json status | jq -r .dc.state)" = registered ]; }
for n in a b; do
	"$NTMCTL" -s "$D/dc.sock" enroll "$n.example.net" "$(cat "$D/$n.pub")" >/dev/null
	printf '[Interface]\nPrivateKeyFile = %s\nName = %s.example.net\n\n[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' \
		"$D/$n.key" "$n" "$DC4" "$(cat "$D/dc.pub")" >"$D/$n.conf"
	tb_spawn "$n" "node_$n" "$NODE" -f -c "$D/$n.conf" -i ntm0 -s "$D/$n.sock"
	tb_wait_for 15 is_registered "$n" || fail "$n did not register"
done

# ---------------------------------------------------------------- agents
cat >"$D/recipes" <<EOF
recipe "cool-down"
  when a.example.net/temperature > 28 within 120s
  do b.example.net/fan on

recipe "doorbell"
  when a.example.net/button == true within 2s
  do b.example.net/chime on
EOF
# b's programs: one line per run (the key), then the result.
for p in fan chime; do
	cat >"$D/$p.sh" <<EOF
#!/bin/sh
echo "\$NTM_KEY \$1" >>$D/$p.runs
echo "$p \$1"
EOF
	chmod 755 "$D/$p.sh"
	: >"$D/$p.runs"
done
{
	printf '[Agent]\nName = a.example.net\nListen = 0.0.0.0:5683\nDatabase = %s\n' "$D/agent-a.db"
	printf 'Recipes = %s\nNodeSocket = %s\nPollInterval = 20\n' "$D/recipes" "$D/a.sock"
	printf '[Sensor]\nName = temperature\nType = number\nDriver = simulated\nState = %s\n' \
		"$D/temperature"
	printf '[Sensor]\nName = button\nType = boolean\nDriver = simulated\nState = %s\n' \
		"$D/button"
} >"$D/agent-a.conf"
{
	printf '[Agent]\nName = b.example.net\nListen = 0.0.0.0:5683\nDatabase = %s\n' "$D/agent-b.db"
	printf 'Recipes = %s\nNodeSocket = %s\nPollInterval = 20\n' "$D/recipes" "$D/b.sock"
	for p in fan chime; do
		printf '[Action]\nName = %s\nType = boolean\nDriver = command\nProgram = %s\nTimeout = 5\n' \
			"$p" "$D/$p.sh"
	done
} >"$D/agent-b.conf"
setv() {
	printf '%s\n' "$2" >"$1.new"
	mv "$1.new" "$1"
}
astat() { "$NTMCTL" -s "$D/agent-a.sock" --json status | jq -r ".$1"; }
stat_is() { [ "$(astat "$1")" = "$2" ]; }
setv "$D/temperature" 20
setv "$D/button" false
start_agent() { # HOST LOG
	tb_spawn "$1" "$2" "$AGENT" -f -v -c "$D/agent-$1.conf" -s "$D/agent-$1.sock"
	eval "PID_$1=\$TB_PID"
	tb_wait_for 20 grep -q ' ready: ' "$(tb_log "$2")" || fail "agent $1 did not start"
}
start_agent a agent-a
start_agent b agent-b
LA=$(tb_log agent-a)

# fire: one edge of a's temperature (the engine sees it fall and rise).
fire() {
	setv "$D/temperature" 20
	sleep 0.15
	setv "$D/temperature" 31
	sleep 0.15
}
# runs FILE KEY: how often b's program ran for KEY.
runs() { grep -c "^$2 " "$1" || true; }

# A first firing without loss: the tunnel is up and b knows a.
fire
tb_wait_for 40 stat_is acknowledged 1 || fail "no first acknowledgement"

# ---------------------------------------------------------------- 20 % loss on r1
cat >"$D/loss.nft" <<EOF
table inet tb_loss {
	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		numgen random mod 100 < 20 counter drop
	}
}
EOF
tb_exec r1 nft -f "$D/loss.nft" || fail "nft loss rule"
for _ in $(seq 2 $((N + 1))); do
	fire
done
tb_wait_for 240 stat_is fired $((N + 1)) || fail "fired $(astat fired) of $((N + 1))"
tb_wait_for 300 stat_is acknowledged $((N + 1)) ||
	fail "acknowledged $(astat acknowledged) of $((N + 1)) (outbox $(astat outbox))"
dropped=$(tb_exec r1 nft list table inet tb_loss | sed -n 's/.*packets \([0-9]*\).*/\1/p')
tb_exec r1 nft delete table inet tb_loss
[ "${dropped:-0}" -gt 0 ] || fail "the loss rule dropped nothing"
for i in $(seq 1 $((N + 1))); do
	n=$(runs "$D/fan.runs" "a.example.net/cool-down/$i/0")
	[ "$n" = 1 ] || fail "firing $i ran $n times on b"
done
[ "$(wc -l <"$D/fan.runs")" = $((N + 1)) ] || fail "b ran $(wc -l <"$D/fan.runs") actions"
echo "# $N firings under 20 % loss: each ran once (sent $(astat sent) attempts," \
	"b answered $("$NTMCTL" -s "$D/agent-b.sock" --json status | jq -r .duplicates)" \
	"duplicates from its record, r1 dropped $dropped packets)"

# ---------------------------------------------------------------- b offline, back within the TTL
tb_kill "$PID_b"
fire
K=a.example.net/cool-down/$((N + 2))/0
tb_wait_for 20 stat_is fired $((N + 2)) || fail "no firing while b is away"
sleep 5
[ "$(astat outbox)" = 1 ] || fail "outbox $(astat outbox) while b is away"
[ "$(runs "$D/fan.runs" "$K")" = 0 ] || fail "ran while b was away"
start_agent b agent-b-2
tb_wait_for 120 grep -q "$K on b.example.net/fan: acknowledged" "$LA" ||
	fail "the queued action was not delivered when b came back"
[ "$(runs "$D/fan.runs" "$K")" = 1 ] || fail "the queued action ran $(runs "$D/fan.runs" "$K") times"

# ---------------------------------------------------------------- the recipe's own short TTL
tb_kill "$PID_b"
setv "$D/button" true
tb_wait_for 20 grep -q "doorbell fired" "$LA" || fail "doorbell did not fire"
tb_wait_for 20 grep -q "doorbell/.* not acknowledged within its TTL of 2 s" "$LA" ||
	fail "no expiry after the recipe's 2 s"
[ "$(astat expired)" = 1 ] || fail "expired $(astat expired)"
start_agent b agent-b-3
sleep 3
[ "$(wc -l <"$D/chime.runs")" = 0 ] || fail "an expired action ran"
echo "recipe_loss.sh: ok"
