#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ntm-agent over the ntm overlay ([Agent] NodeSocket, issue 9): a DC, three
# ntm-nodes (a behind a cone NAT, b and c public), an ntm-agent beside
# each with NodeSocket set and no [Peer] at all. Checks:
#  - the recipe "when a's temperature > 28 do b's power on, do b's fan on"
#    fires on A, the requests reach B at b's VIP (A's agent resolved
#    b.example.net through its node), B identifies the sender by `whois` of
#    the source VIP, acts once on each, and A logs the acknowledgements;
#    over the cold overlay both (power: simulated driver, fan: command
#    driver) are acknowledged to their first attempt: no 5.03, no retry
#    (status acknowledged_first_attempt and sent, the log), the fan's
#    program ran once and A's outbox is empty;
#  - c (enrolled, with an agent, named by no recipe) POSTs to b's power
#    over the overlay with a payload that claims a's key: B refuses it
#    (4.03), logs it and counts it (unauthorised), and does not act;
#  - a second firing reuses the cached VIP and whois answer (no 5.03).
#
# Needs: root, jq, coap-client-notls (libcoap3-bin).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "agent_overlay.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need jq coap-client-notls
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
AGENT=$(tb_bin recipe/agent/ntm-agent)
D=$TB_DIR
NODES="a b c"

tb_public_host dc
# a behind the NAT: the node builds a tunnel when the NATed side starts
# the handshake (a resolve from a public node to one behind this NAT timed
# out in the handshake when this test was written).
tb_router r1 cone
tb_nat_host a r1
tb_public_host b
tb_public_host c
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
ntm_keys "$D" dc $NODES
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5 >"$D/dc.conf"
DCSOCK=$D/dc.sock
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}
ctl() {
	local n=$1
	shift
	"$NTMCTL" -s "$D/$n.sock" "$@"
}
is_registered() {
	[ "$(ctl "$1" --json status | jq -r .dc.state)" = registered ]
}
astat() {
	"$NTMCTL" -s "$D/agent-$1.sock" --json status | jq -r ".$2"
}
setv() {
	printf '%s\n' "$2" >"$1.new"
	mv "$1.new" "$1"
}
file_is() {
	[ "$(cat "$1")" = "$2" ]
}

ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" || fail "ntm-dc did not start"
for n in $NODES; do
	ntm_node_start "$D" "$n" "$DC4:7000" "$(cat "$D/dc.pub")" || fail "$n did not start"
done
for n in $NODES; do
	tb_wait_for 15 is_registered "$n" || fail "$n did not register"
	printf -v "V4_$n" %s "$(ntm_node_json "$n" vip4)"
done
echo "# VIPs: a $V4_a, b $V4_b, c $V4_c"

# ---------------------------------------------------------------- agents
cat >"$D/recipes" <<EOF
recipe "cool-down"
  when a.example.net/temperature > 28
  do b.example.net/power on
  do b.example.net/fan on
EOF
# b's fan: a command driver; one line per run (the key), then the result.
cat >"$D/fan.sh" <<EOF
#!/bin/sh
echo "\$NTM_KEY \$1" >>$D/fan.runs
echo "fan \$1"
EOF
chmod 755 "$D/fan.sh"
: >"$D/fan.runs"
for n in $NODES; do
	{
		printf '[Agent]\nName = %s.example.net\nListen = 0.0.0.0:5683\n' "$n"
		printf 'Database = %s\nRecipes = %s\n' "$D/agent-$n.db" "$D/recipes"
		printf 'NodeSocket = %s\nPollInterval = 50\nActionDeadline = 120\n' "$D/$n.sock"
		printf '[Sensor]\nName = temperature\nType = number\nDriver = simulated\n'
		printf 'State = %s\n' "$D/$n.temperature"
		printf '[Action]\nName = power\nType = boolean\nDriver = simulated\n'
		printf 'State = %s\n' "$D/$n.power"
		if [ "$n" = b ]; then
			printf '[Action]\nName = fan\nType = boolean\nDriver = command\n'
			printf 'Program = %s\nTimeout = 10\n' "$D/fan.sh"
		fi
	} >"$D/agent-$n.conf"
	setv "$D/$n.temperature" 20
	setv "$D/$n.power" false
	tb_spawn "$n" "agent-$n" "$AGENT" -f -v -c "$D/agent-$n.conf" -s "$D/agent-$n.sock"
	tb_wait_for 10 grep -q "ready" "$(tb_log "agent-$n")" || fail "agent $n did not start"
done
LA=$(tb_log agent-a)
LB=$(tb_log agent-b)
[ "$(astat a peers)" = 1 ] || fail "a's agent: $(astat a peers) peers, wanted b alone"

# ---------------------------------------------------------------- trigger -> action over the tunnel
setv "$D/a.temperature" 30
tb_wait_for 40 grep -q "cool-down/1/0 on b.example.net/power: acknowledged" "$LA" ||
	fail "no acknowledgement of the first firing"
file_is "$D/b.power" true || fail "b's power did not switch"
grep -q "resolve b.example.net: $V4_b:5683" "$LA" || fail "a did not resolve b's VIP"
grep -q "whois $V4_a: a.example.net" "$LB" || fail "b did not identify a by whois"
[ "$(grep -c 'cool-down/1/0 from a.example.net on b.example.net/power: done' "$LB")" = 1 ] ||
	fail "b did not log the action from a once"
tb_wait_for 40 grep -q "cool-down/1/1 on b.example.net/fan: acknowledged 2.04 .* 1 attempt(s): fan true" \
	"$LA" || fail "no single-attempt acknowledgement of the fan's program"
[ "$(grep -c '^a.example.net/cool-down/1/1 true$' "$D/fan.runs")" = 1 ] ||
	fail "the fan's program ran $(grep -c . "$D/fan.runs") times"
[ "$(astat a acknowledged)" = 2 ] || fail "a: acknowledged $(astat a acknowledged)"
# First contact over a cold overlay: each request answered to its first
# attempt (b held both for its whois of a; the fan's until its program ended).
[ "$(astat a acknowledged_first_attempt)" = 2 ] ||
	fail "a: acknowledged_first_attempt $(astat a acknowledged_first_attempt), wanted 2"
[ "$(astat a sent)" = 2 ] || fail "a: $(astat a sent) attempts for two requests"
! grep -q "device busy\|retrying" "$LA" || fail "a retried: $(grep 'busy\|retrying' "$LA")"
! grep -q "in progress" "$LB" || fail "b answered 'in progress'"
[ "$(astat a outbox)" = 0 ] || fail "a's outbox keeps $(astat a outbox) request(s)"
[ "$(astat b performed)" = 2 ] || fail "b: performed $(astat b performed)"

# ---------------------------------------------------------------- c is not named: refused
setv "$D/b.power" false
ctl c resolve b.example.net >/dev/null || fail "c could not resolve b"
r=
for _ in $(seq 1 10); do
	# The first answer may be 5.03 while b asks its node who c is.
	r=$(tb_exec c timeout 30 coap-client-notls -m post -t json \
		-e '{"key":"a.example.net/cool-down/99/0","value":true}' \
		"coap://$V4_b/power" 2>&1 || true)
	case "$r" in "5.03"*) sleep 0.3 ;; *) break ;; esac
done
case "$r" in "4.03 refused:"*) ;; *) fail "c's POST to b gave '$r'" ;; esac
file_is "$D/b.power" false || fail "a refused request acted"
[ "$(astat b unauthorised)" -ge 1 ] || fail "b did not count the refusal"
grep -q "from c.example.net ($V4_c) refused: no recipe names that device" "$LB" ||
	fail "b did not log the refusal with c's name"
! grep -q "a.example.net/cool-down/99/0" "$LB" || fail "b took the key c's payload claimed"

# ---------------------------------------------------------------- a second firing, from the caches
setv "$D/a.temperature" 20
sleep 0.3
setv "$D/a.temperature" 31
tb_wait_for 20 grep -q "cool-down/2/0 on b.example.net/power: acknowledged .* 1 attempt" "$LA" ||
	fail "no single-attempt acknowledgement of the second firing"
tb_wait_for 20 grep -q "cool-down/2/1 on b.example.net/fan: acknowledged .* 1 attempt" "$LA" ||
	fail "no single-attempt acknowledgement of the second fan run"
[ "$(astat a acknowledged_first_attempt)" = 4 ] ||
	fail "a: acknowledged_first_attempt $(astat a acknowledged_first_attempt), wanted 4"
file_is "$D/b.power" true || fail "b's power did not switch again"
[ "$(grep -c 'resolve b.example.net: ' "$LA")" = 1 ] || fail "a resolved b again"
echo "agent_overlay.sh: ok (unauthorised at b: $(astat b unauthorised))"
