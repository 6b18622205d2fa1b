#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Packet-triggered tunnel construction (DESIGN "Flows" 2), whois, revocation
# and the DC's drop counters: a DC and three public nodes (a, b, c), each
# with only [Interface] PrivateKeyFile + Name and a [DC] section.
#
#  - a plain `ping -c 3` from a to b's VIP with no resolve before succeeds,
#    and its first echo (icmp_seq=1) is answered: it was queued, not dropped;
#    the same over IPv6 from b to c;
#  - `ntmctl whois A_VIP` on b prints a's FQDN and public key; a VIP nobody
#    has exits 2;
#  - ping to an unused pool address gets "Destination Host Unreachable"
#    (ICMP from the node) within seconds, not silence;
#  - a TCP transfer (sha256 on both ends) over the triggered tunnel;
#  - `revoke c` at the DC: c's control session ends at once (registered 3 ->
#    2 in the DC's status), c disappears from a's peers together with its
#    route, pings to c fail; re-enrolled, c is reachable again by a packet;
#  - garbage datagrams to the DC port raise the DC's drop counters.
#
# Needs: root, jq, socat.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "node_trigger.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need jq socat sha256sum
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR
KA=5
NODES="a b c"

ntm_public_dc "$KA" $NODES || fail "testbed"
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}
ctl() {
	local n=$1
	shift
	"$NTMCTL" -s "$D/$n.sock" "$@"
}
dc_status() {
	dcctl --json status | jq -r ".$1"
}
status() {
	ctl "$1" --json status | jq -r ".$2"
}
is_state() {
	[ "$(status "$1" dc.state)" = "$2" ]
}
has_peer() {
	ctl "$1" --json peers | jq -e --arg k "$(cat "$D/$2.pub")" 'any(.[]; .public_key == $k)' >/dev/null
}
no_peer() {
	! has_peer "$@"
}

ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" || fail "ntm-dc did not start"
for n in $NODES; do
	ntm_node_start "$D" "$n" "$DC4:7000" "$DCPUB" || fail "$n did not start"
done
for n in $NODES; do
	tb_wait_for 10 is_state "$n" registered || fail "$n did not register"
	printf -v "V4_$n" %s "$(ntm_node_json "$n" vip4)"
	printf -v "V6_$n" %s "$(ntm_node_json "$n" vip6)"
done

echo "# the DC's status"
dcctl status
[ "$(dc_status domain)" = example.net ] || fail "DC status: domain"
[ "$(dc_status registered)" = 3 ] && [ "$(dc_status online)" = 3 ] ||
	fail "DC status: registered $(dc_status registered), online $(dc_status online)"
[ "$(status a 'trigger.pools | join(",")')" = "100.80.0.0/16,fd80:1::/64" ] ||
	fail "a: pools $(status a trigger.pools)"
tb_exec a ip route show 100.80.0.0/16 | grep -q ntm0 || fail "a: no route for Pool4"

echo "# ping without resolve: the first packet builds the tunnel and is answered"
no_peer a b || fail "a knows b before any packet"
tb_exec a ping -c 3 -i 0.2 -W 5 "$V4_b" >"$D/ping_ab.out" ||
	fail "a: ping $V4_b: $(cat "$D/ping_ab.out")"
grep -q "icmp_seq=1 " "$D/ping_ab.out" || fail "the first echo was not answered"
grep -q " 0% packet loss" "$D/ping_ab.out" || fail "loss: $(tail -2 "$D/ping_ab.out")"
[ "$(status a trigger.flushed)" -ge 1 ] || fail "a: nothing flushed from the queue"
echo "# $(grep icmp_seq=1 "$D/ping_ab.out")"
tb_exec b ping -6 -c 3 -i 0.2 -W 5 "$V6_c" >"$D/ping_bc.out" ||
	fail "b: ping -6 $V6_c: $(cat "$D/ping_bc.out")"
grep -q "icmp_seq=1 " "$D/ping_bc.out" || fail "the first IPv6 echo was not answered"

echo "# whois on b: a's VIP names a"
ctl b whois "$V4_a"
[ "$(ctl b --json whois "$V4_a" | jq -r .fqdn)" = a.example.net ] || fail "whois: fqdn"
[ "$(ctl b --json whois "$V6_a" | jq -r .pubkey)" = "$(cat "$D/a.pub")" ] || fail "whois: key"
[ "$(ctl b --json whois "$V4_a" | jq -r .vip6)" = "$V6_a" ] || fail "whois: vip6"
rc=0
ctl b whois 100.80.255.254 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "whois of a VIP nobody has exited $rc, want 2"

echo "# an unused pool address: Destination Host Unreachable, not silence"
rc=0
tb_exec a timeout 10 ping -c 2 -i 0.5 -W 3 100.80.255.254 >"$D/ping_none.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "ping to an unused address succeeded"
grep -q "Destination Host Unreachable" "$D/ping_none.out" ||
	fail "no ICMP unreachable: $(cat "$D/ping_none.out")"
[ "$(status a trigger.unknown)" -ge 1 ] || fail "a: the DC's UNKNOWN_NAME was not counted"

echo "# TCP over the triggered tunnel a -> b"
ntm_transfer a b "$V4_b" 4M

echo "# revoke c: its session ends, a drops it"
tb_exec a ping -c 1 -W 5 "$V4_c" >/dev/null || fail "a: ping c before the revocation"
has_peer a c || fail "a has no direction to c"
tb_exec a ip route show "$V4_c" | grep -q ntm0 || fail "a: no route to c"
dcctl revoke c.example.net
[ "$(dc_status registered)" = 2 ] || fail "c's session lives on: registered $(dc_status registered)"
tb_wait_for 5 no_peer a c || fail "a still has c as a peer"
has_peer a b || fail "a lost b too"
! tb_exec a ip route show "$V4_c/32" | grep -q . || fail "a: c's route stayed"
[ "$(dc_status revocations_sent)" -ge 1 ] || fail "DC: no PEER_REVOKED counted"
rc=0
tb_exec a ping -c 2 -i 0.5 -W 2 "$V4_c" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "ping to the revoked c still works"

echo "# c enrolled again: a packet reaches it again"
dcctl enroll c.example.net "$(cat "$D/c.pub")" >/dev/null
registrations() {
	[ "$(grep -c "node c.example.net registered" "$(tb_log dc1)")" -ge 2 ]
}
tb_wait_for 60 registrations || fail "c did not register again"
NEW_V4_c=$(ntm_node_json c vip4)
# A ping before c was back may have left the address in a's negative cache (5 s).
ok=
for i in 1 2 3 4 5 6 7 8; do
	if tb_exec a ping -c 1 -W 2 "$NEW_V4_c" >/dev/null 2>&1; then
		ok=1
		break
	fi
	sleep 1
done
[ -n "$ok" ] || fail "a: ping c at $NEW_V4_c after re-enrolment"
has_peer a c || fail "a did not learn c again"

echo "# garbage to the DC port raises its drop counters"
before=$(dc_status drops_total)
mal=$(dc_status drops.malformed)
for i in 1 2 3 4 5; do
	printf 'garbage %s' "$i" | tb_exec a socat -u - "UDP4-SENDTO:$DC4:7000"
	# a control data message for a session that does not exist
	{ printf '\203\000\000\000\022\064\126\170'; head -c 40 /dev/zero; } |
		tb_exec a socat -u - "UDP4-SENDTO:$DC4:7000"
done
tb_wait_for 5 sh -c "[ \"\$('$NTMCTL' -s '$DCSOCK' --json status | jq .drops_total)\" -ge $((before + 10)) ]" ||
	fail "DC drops_total $(dc_status drops_total), was $before"
[ "$(dc_status drops.malformed)" -ge $((mal + 5)) ] || fail "DC: malformed not counted"
[ "$(dc_status drops.unknown_receiver)" -ge 5 ] || fail "DC: unknown receiver not counted"
dcctl status | grep -E "^drops"

for n in $NODES; do
	p=PID_$n
	kill -TERM "${!p}"
	wait "${!p}" || fail "$n did not exit cleanly"
done
tb_kill "$DC_PID"
echo "node_trigger.sh: PASS"
