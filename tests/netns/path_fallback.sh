#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Direct -> relay fallback (endnode/path.h "Direct path lost"): two nodes
# behind cone NATs punch a direct path; once the pair left its idle relay
# session (released on the RS), a rule on c1's NAT router starts dropping
# the UDP between the two routers' public addresses (the DC and the RS stay
# reachable) while c1 pings c2. Checks: the pings resume within 20 s, over
# the relay (c1 asked the DC for a session again: RELAY_REQUEST); both
# ends' `ntmctl peers` show the relay and c1 the reason; c1 logged the
# silent direct path; a TCP transfer completes with the same sha256 and
# crosses the relay. Then the rule goes: the pair is back on the punched
# path within the upgrade cadence (a direct probe every 60 s; bound 100 s)
# and pings no longer cross the relay. Prints the time from the block to
# the first ping answered over the relay.
#
# Needs: root, jq, nft, socat.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "path_fallback.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need jq nft socat
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

tb_public_host dc
tb_public_host rs
tb_router rc1 cone
tb_router rc2 cone
tb_nat_host c1 rc1
tb_nat_host c2 rc2
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
ntm_keys "$D" dc rs c1 c2
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5 >"$D/dc.conf"
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
ntm_rs_start rs "$(tb_addr4 rs):7100" "$DC4:7000" "$DCPUB" -f -v || fail "ntm-rs did not start"
tb_wait_for 20 ntm_relays_are 1 || fail "the relay did not register"

for n in c1 c2; do
	ntm_node_start "$D" "$n" "$DC4:7000" "$DCPUB" || fail "$n did not start"
done
status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".dc.$2"
}
is_eim() {
	[ "$(status "$1" state)" = registered ] && [ "$(status "$1" nat)" = eim ]
}
for n in c1 c2; do
	tb_wait_for 20 is_eim $n || fail "$n: state $(status $n state), nat $(status $n nat)"
done
VIP2=$(status c2 vip4)
OUT2=$(status c2 outside)
OUT2=${OUT2%:*}

rs_status() {
	"$NTMCTL" -s "$D/rs.sock" --json status | jq -r ".$1"
}
ms() {
	date +%s%3N
}
# until_ms SECONDS CMD...: CMD until it succeeds, SECONDS of wall clock at most.
until_ms() {
	local end=$(($(ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(ms)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------------- punched, relay left
line=$(timeout 60 "$NTMCTL" -s "$D/c1.sock" ping c2.example.net --until-direct) ||
	fail "ping --until-direct exited $?"
echo "# $line"
[ "$(ntm_peer_field c1 c2 path)" = punched ] || fail "c1 peers: path $(ntm_peer_field c1 c2 path)"
both_punched() {
	tb_exec c1 ping -c 1 -W 1 "$VIP2" >/dev/null &&
		[ "$(ntm_peer_field c1 c2 path)" = punched ] && [ "$(ntm_peer_field c2 c1 path)" = punched ]
}
until_ms 20 both_punched || fail "not punched: c2 peers: path $(ntm_peer_field c2 c1 path)"
rs_released() {
	[ "$(rs_status sessions)" = 0 ]
}
until_ms 40 rs_released || fail "the idle relay session was not released: $(rs_status sessions)"
echo "# punched; the idle relay session was released"

# ---------------------------------------------------------------- the direct path dies
# In the forward chain: before the SNAT of c1's packets, after the DNAT of c2's.
tb_exec rc1 nft -f - <<EOF
table inet tb_fallback {
	chain block {
		type filter hook forward priority filter; policy accept;
		ip daddr $OUT2 meta l4proto udp drop
		ip saddr $OUT2 meta l4proto udp drop
	}
}
EOF
T0=$(ms)
pong() {
	tb_exec c1 ping -c 1 -W 1 "$VIP2"
}
until_ms 20 pong || fail "no ping answered within 20 s of the block"
T1=$(ms)
echo "# block -> first ping answered again: $((T1 - T0)) ms"
[ "$(ntm_peer_field c1 c2 path)" = relay ] || fail "c1 peers: path $(ntm_peer_field c1 c2 path)"
reason=$(ntm_peer_field c1 c2 last_direct_failure)
if [ "$reason" = null ] || [ -z "$reason" ]; then
	fail "c1 peers: no reason for the relay"
fi
[ "$(ntm_peer_field c1 c2 rs)" = "$(tb_addr4 rs):7100" ] || fail "c1 peers: rs $(ntm_peer_field c1 c2 rs)"
grep -q "direct path to .* silent for [0-9]* s while sending: falling back to the relay" \
	"$(tb_log node_c1)" || fail "c1 did not log the silent direct path"
c2_relay() {
	pong && [ "$(ntm_peer_field c2 c1 path)" = relay ]
}
until_ms 20 c2_relay || fail "c2 peers: path $(ntm_peer_field c2 c1 path)"
echo "# both on the relay (c1: '$reason')"
grep -h "falling back to the relay" "$(tb_log node_c1)" "$(tb_log node_c2)" | sed 's/^/# /'
F0=$(rs_status counters.forwarded)
ntm_transfer c1 c2 "$VIP2" 2M
[ "$(rs_status counters.forwarded)" -ge $((F0 + 100)) ] || fail "the transfer did not cross the relay"
echo "# 2 MB over the relay, sha256 equal"

# ---------------------------------------------------------------- the direct path is back
tb_exec rc1 nft delete table inet tb_fallback
T0=$(ms)
until_ms 100 both_punched ||
	fail "not back on the direct path: c1 $(ntm_peer_field c1 c2 path), c2 $(ntm_peer_field c2 c1 path)"
echo "# back on the punched path after $(($(ms) - T0)) ms"
F0=$(rs_status counters.forwarded)
tb_exec c1 ping -c 5 -i 0.2 -W 5 "$VIP2" >/dev/null || fail "no ping on the direct path"
[ "$(rs_status counters.forwarded)" = "$F0" ] || fail "pings still cross the relay"
echo "path_fallback.sh: PASS"
