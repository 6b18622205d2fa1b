#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Relay -> direct upgrade (DESIGN "Flows" 3-4): two nodes behind cone NATs
# (the DC chooses a punch) while c1's own firewall drops UDP to and from
# c2's outside address, so the punch fails. Checks: resolve answers with the
# relay (the first packet does not wait for the failed punch), `ntmctl peers`
# on c1 shows the relay, the DC's path (punched), the reason the direct
# attempt failed and an RTT; while c1's first pings cross the relay, c2
# resolves c1: none is lost and neither end binds the session anew (the
# DC offers the pair's session again with the same sides). Then the firewall
# rule goes: `ntmctl ping c2 --until-direct` answers only once the direct
# path is proven, with path punched; both ends' peers show punched and the
# failure reason cleared; pings no longer cross the relay (its forwarded
# counter stands still).
#
# Needs: root, jq, nft.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "path_upgrade.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need jq nft
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
dcctl() {
	"$NTMCTL" -s "$D/dc.sock" "$@"
}
ntm_rs_start rs "$(tb_addr4 rs):7100, [$(tb_addr6 rs)]:7100" "$DC4:7000" "$DCPUB" -f -v ||
	fail "ntm-rs did not start"
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

forwarded() {
	"$NTMCTL" -s "$D/rs.sock" --json status | jq -r .counters.forwarded
}

# ---------------------------------------------------------------- the punch cannot work
tb_exec c1 nft -f - <<EOF
table inet tb_upgrade {
	chain out {
		type filter hook output priority filter; policy accept;
		ip daddr $OUT2 udp dport != 53 drop
	}
	chain in {
		type filter hook input priority filter; policy accept;
		ip saddr $OUT2 udp sport != 53 drop
	}
}
EOF
line=$("$NTMCTL" -s "$D/c1.sock" resolve c2.example.net) || fail "resolve exited $?"
echo "# resolve with the punch blocked: $line"
set -- $line
[ "$4" = relay ] || fail "resolve printed path $4, want relay"
[ "$(ntm_peer_field c1 c2 path)" = relay ] || fail "c1 peers: path $(ntm_peer_field c1 c2 path)"
[ "$(ntm_peer_field c1 c2 dc_path)" = punched ] || fail "c1 peers: dc_path $(ntm_peer_field c1 c2 dc_path)"
[ "$(ntm_peer_field c1 c2 rs)" = "$(tb_addr4 rs):7100" ] || fail "c1 peers: rs $(ntm_peer_field c1 c2 rs)"
reason=$(ntm_peer_field c1 c2 last_direct_failure)
[ "$reason" != null ] && [ -n "$reason" ] || fail "c1 peers: no reason for the relay"
rtt1=$(ntm_peer_field c1 c2 rtt_ms)
rtt2=$(ntm_peer_field c2 c1 rtt_ms)
[ "$rtt1" != null ] || [ "$rtt2" != null ] || fail "no RTT on either end"
echo "# c1 peers: path relay, reason '$reason', rtt_ms $rtt1 / $rtt2 (c2)"

# ---------------------------------------------------------------- the other end asks back
# c2 resolves c1 (an application answering by name) while c1's first
# datagrams cross the relay: the DC offers the pair's session again with
# the same sides, neither end binds anew, and not one datagram is lost.
tb_exec c1 ping -c 20 -i 0.05 -W 2 "$VIP2" >"$D/ping.out" 2>&1 &
PING=$!
"$NTMCTL" -s "$D/c2.sock" resolve c1.example.net >/dev/null || fail "c2: resolve c1 exited $?"
wait "$PING" || true
grep -q " 0% packet loss" "$D/ping.out" || fail "pings lost while c2 resolved c1: $(tail -2 "$D/ping.out")"
grep -q "icmp_seq=1 " "$D/ping.out" || fail "the first ping got no answer: $(cat "$D/ping.out")"
# (Sides swapped by a second offer leave both ends unbound: the RS refuses them.)
[ "$(ntm_peer_field c1 c2 relay_bound)" = true ] && [ "$(ntm_peer_field c2 c1 relay_bound)" = true ] ||
	fail "relay bound: c1 $(ntm_peer_field c1 c2 relay_bound), c2 $(ntm_peer_field c2 c1 relay_bound)"
F0=$(forwarded)
tb_exec c1 ping -c 3 -i 0.2 -W 5 "$VIP2" >/dev/null || fail "no ping over the relay"
[ "$(forwarded)" -ge $((F0 + 6)) ] || fail "the pings did not cross the relay"

# ---------------------------------------------------------------- the direct path opens
tb_exec c1 nft delete table inet tb_upgrade
T0=$(date +%s%3N)
line=$(timeout 90 "$NTMCTL" -s "$D/c1.sock" ping c2.example.net --until-direct) ||
	fail "ping --until-direct exited $?"
T1=$(date +%s%3N)
echo "# ping --until-direct: $line (after $((T1 - T0)) ms)"
set -- $line
[ "$4" = punched ] || fail "ping --until-direct printed path $4, want punched"
[ "$(ntm_peer_field c1 c2 path)" = punched ] || fail "c1 peers: path $(ntm_peer_field c1 c2 path)"
[ "$(ntm_peer_field c1 c2 last_direct_failure)" = null ] || fail "c1: the failure reason stayed"
tb_exec c1 ping -c 3 -i 0.2 -W 5 "$VIP2" >/dev/null || fail "no ping on the direct path"
c2_direct() {
	[ "$(ntm_peer_field c2 c1 path)" = punched ]
}
tb_wait_for 10 c2_direct || fail "c2 peers: path $(ntm_peer_field c2 c1 path)"
F0=$(forwarded)
tb_exec c1 ping -c 5 -i 0.2 -W 5 "$VIP2" >/dev/null || fail "no ping on the direct path"
[ "$(forwarded)" = "$F0" ] || fail "pings still cross the relay: $F0 -> $(forwarded)"

# ---------------------------------------------------------------- one session, released once direct
# resolve and ping --until-direct each had a DIRECTION: the pair still got one session.
allocated=$(dcctl --json relays | jq '[.[].allocated] | add')
[ "$allocated" = 1 ] || fail "the DC allocated $allocated relay sessions for one pair"
rs_released() {
	[ "$("$NTMCTL" -s "$D/rs.sock" --json status | jq -r .counters.released)" -ge 1 ] &&
		[ "$("$NTMCTL" -s "$D/rs.sock" --json status | jq -r .sessions)" = 0 ]
}
tb_wait_for 40 rs_released ||
	fail "the relay session was not released: $("$NTMCTL" -s "$D/rs.sock" --json status)"
[ "$(ntm_peer_field c1 c2 path)" = punched ] || fail "c1 peers after the release: $(ntm_peer_field c1 c2 path)"
tb_exec c1 ping -c 3 -i 0.2 -W 5 "$VIP2" >/dev/null || fail "no ping after the release"
echo "# relay session released on the RS once both ends went direct"
echo "path_upgrade.sh: PASS"
