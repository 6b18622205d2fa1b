#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Directed tunnel construction (DESIGN "Flows" 2), direct path: a DC and
# three public nodes (a, b, c), each configured with only [Interface]
# PrivateKeyFile + Name and a [DC] section, all VIPs from the DC. For every
# pair `ntmctl resolve` prints "FQDN VIP4 VIP6 direct MS" (the ms figures are
# printed, not asserted), then ping (v4, v6) and a TCP transfer (sha256 on
# both ends) over the VIPs. resolve of an unknown name exits 2. With the DC
# stopped an established tunnel carries ping without loss; after the DC
# restart the nodes re-register and resolve works again.
#
# Needs: root, jq, socat.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "node_resolve.sh: FAIL: $*" >&2
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

start_dc() {
	ntm_dc_start "$1" "$DCBIN" "$D/dc.conf" "$DCSOCK" ||
		fail "ntm-dc did not start: $(tail -5 "$(tb_log "dc$1")")"
}

status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".dc.$2"
}

is_state() {
	[ "$(status "$1" state)" = "$2" ]
}


start_dc 1
for n in $NODES; do
	ntm_node_start "$D" "$n" "$DC4:7000" "$DCPUB" || fail "$n did not start"
done
for n in $NODES; do
	tb_wait_for 10 is_state "$n" registered || fail "$n did not register: $(status "$n" state)"
	printf -v "V4_$n" %s "$(ntm_node_json "$n" vip4)"
	printf -v "V6_$n" %s "$(ntm_node_json "$n" vip6)"
done

# resolve FROM TO: the line, checked; prints it.
resolve() {
	local line v4=V4_$2 v6=V6_$2 want=$2.example.net
	line=$("$NTMCTL" -s "$D/$1.sock" resolve "$want") ||
		fail "$1: resolve $2 exited $?: $(tail -5 "$(tb_log "node_$1")")"
	set -- $line
	[ "$#" = 5 ] && [ "$1" = "$want" ] && [ "$2" = "${!v4}" ] && [ "$3" = "${!v6}" ] &&
		[ "$4" = direct ] && [[ "$5" =~ ^[0-9]+$ ]] ||
		fail "resolve printed '$line', want $want ${!v4} ${!v6} direct MS"
	echo "# resolve: $line"
}

# traffic FROM TO: ping both families and a TCP transfer with sha256 over the VIPs.
traffic() {
	local v4=V4_$2 v6=V6_$2
	tb_exec "$1" ping -c 3 -i 0.2 -W 5 "${!v4}" >/dev/null || fail "$1: ping ${!v4} ($2)"
	tb_exec "$1" ping -6 -c 3 -i 0.2 -W 5 "${!v6}" >/dev/null || fail "$1: ping ${!v6} ($2)"
	ntm_transfer "$1" "$2" "${!v4}" 4M
}

echo "# resolve between every pair, then ping and TCP over the VIPs"
for pair in "a b" "a c" "b c" "c a"; do
	set -- $pair
	resolve "$1" "$2"
	traffic "$1" "$2"
	traffic "$2" "$1"
done
echo "# resolve again (tunnel up already)"
resolve b a

echo "# an unknown name exits 2"
rc=0
"$NTMCTL" -s "$D/a.sock" resolve nobody.example.net >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "resolve nobody.example.net exited $rc, want 2"

echo "# the DC stops: the tunnels go on"
tb_kill "$DC_PID"
tb_exec a ping -c 20 -i 0.2 -W 2 "$V4_b" >"$D/ping.out" || fail "ping a -> b without the DC"
grep -q " 0% packet loss" "$D/ping.out" || fail "loss without the DC: $(tail -2 "$D/ping.out")"

echo "# the DC is back: the nodes re-register and resolve again"
start_dc 2
for n in $NODES; do
	# The node's own state may still say "registered" from before: ask the new DC.
	tb_wait_for 40 grep -q "node $n.example.net registered" "$(tb_log dc2)" ||
		fail "$n did not re-register: $(status "$n" state)"
	tb_wait_for 5 is_state "$n" registered || fail "$n: state $(status "$n" state)"
done
resolve c b
resolve a c

for n in $NODES; do
	p=PID_$n
	kill -TERM "${!p}"
	wait "${!p}" || fail "$n did not exit cleanly"
done
tb_kill "$DC_PID"
echo "node_resolve.sh: PASS"
