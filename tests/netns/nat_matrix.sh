#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The NAT matrix (DESIGN "Flows" 3-4): one dual-stack DC and one dual-stack
# relay on the public core, and nodes of every kind: public (pub), behind
# cone NATs (c1, c2), behind symmetric NATs (s1, s2), behind a router
# without an input firewall (o1), two behind one NAT (m1, m2), IPv4-only
# behind a cone NAT (v4), IPv6-only public (v6). The topology is built
# once; the DC must have classified every node (public, eim, edm; IPv4 /
# IPv6); for each pair of the list below, `ntmctl resolve` from the first
# must print the path the design gives that pair, both ends' `ntmctl peers`
# show it (and the relay, where relayed), `ntmctl ping --until-direct`
# answers at once for the paths that are not relayed, and ping plus a TCP
# transfer (sha256 on both ends) go over the VIPs, both ways.
#
# Needs: root, jq, socat.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "nat_matrix.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need jq socat sha256sum
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR
KA=5

# "FROM TO PATH": the pairs and the path the design gives them.
# Direct where one end is public (pub; v6 over IPv6), punched where both map
# endpoint-independently (the open router's o1 included), same-nat for m1
# and m2, relay for the rest (an endpoint-dependent mapping, or IPv4-only
# with IPv6-only).
PAIRS=(
	"pub c1 direct" "pub s1 direct" "pub o1 direct" "pub m1 direct" "pub v4 direct"
	"pub v6 direct"
	"v6 c1 direct" "s1 v6 direct" "v6 o1 direct" "m1 v6 direct" "v4 v6 relay"
	"v4 c1 punched" "v4 s1 relay" "o1 v4 punched" "v4 m1 punched"
	"c1 c2 punched" "c1 s1 relay" "c1 o1 punched" "m1 c1 punched"
	"s1 s2 relay" "o1 s1 relay" "s1 m1 relay"
	"o1 m1 punched" "m1 m2 same-nat"
)
# NM_PAIRS="a b path,c d path" runs only those (debugging).
if [ -n "${NM_PAIRS:-}" ]; then
	IFS=, read -ra PAIRS <<<"$NM_PAIRS"
fi

tb_public_host dc
tb_public_host relay
tb_public_host pub
tb_public_host v6 --v6-only
tb_router rc1 cone
tb_router rc2 cone
tb_router rsy1 symmetric
tb_router rsy2 symmetric
tb_router ro open
tb_router rm cone
tb_router r4 cone
tb_nat_host c1 rc1
tb_nat_host c2 rc2
tb_nat_host s1 rsy1
tb_nat_host s2 rsy2
tb_nat_host o1 ro
tb_nat_host m1 rm
tb_nat_host m2 rm
tb_nat_host v4 r4 --v4-only
NODES="pub v6 c1 c2 s1 s2 o1 m1 m2 v4"
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
ntm_keys "$D" dc relay $NODES
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" "$KA" >"$D/dc.conf"
DCSOCK=$D/dc.sock
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" ||
	fail "ntm-dc did not start: $(tail -5 "$(tb_log dc1)")"

# ---------------------------------------------------------------- the relay
RS4=$(tb_addr4 relay)
ntm_rs_start relay "$RS4:7100, [$(tb_addr6 relay)]:7100" "$DC4:7000, [$DC6]:7000" "$DCPUB" -f -v ||
	fail "ntm-rs did not start"
tb_wait_for 10 ntm_relays_are 1 || fail "the relay did not register"

# ---------------------------------------------------------------- the nodes
status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".dc.$2"
}

is_state() {
	[ "$(status "$1" state)" = "$2" ]
}

has_nat() {
	[ "$(status "$1" nat)" != null ]
}

for n in $NODES; do
	ep="$DC4:7000"
	[ "$n" = v6 ] && ep="[$DC6]:7000"
	ntm_node_start "$D" "$n" "$ep" "$DCPUB" || fail "$n did not start"
done
for n in $NODES; do
	tb_wait_for 10 is_state "$n" registered || fail "$n did not register: $(status "$n" state)"
	tb_wait_for 10 has_nat "$n" || fail "$n: no NAT class"
	printf -v "V4_$n" %s "$(status "$n" vip4)"
	echo "# $n: nat $(status "$n" nat), ipv4 $(status "$n" ipv4), ipv6 $(status "$n" ipv6)"
done

# The classes the DC must have found.
for want in pub:public v6:public c1:eim c2:eim o1:eim m1:eim m2:eim v4:eim s1:edm s2:edm; do
	n=${want%%:*}
	[ "$(status "$n" nat)" = "${want#*:}" ] || fail "$n: nat $(status "$n" nat), want ${want#*:}"
done
[ "$(status v4 ipv6)" = false ] && [ "$(status v6 ipv4)" = false ] ||
	fail "families: v4 has ipv6 $(status v4 ipv6), v6 has ipv4 $(status v6 ipv4)"

# resolve FROM TO PATH
resolve() {
	local line want=$2.example.net
	line=$("$NTMCTL" -s "$D/$1.sock" resolve "$want") ||
		fail "$1: resolve $2 exited $?: $(tail -5 "$(tb_log "node_$1")")"
	set -- $line "$3"
	[ "$4" = "$6" ] || fail "resolve printed '$line', want path $6"
	echo "# resolve: $line"
}

# check_peers A B PATH: both ends show PATH (and the relay when relayed).
check_peers() {
	local x y
	for x in "$1 $2" "$2 $1"; do
		set -- $x "$3"
		[ "$(ntm_peer_field "$1" "$2" path)" = "$3" ] ||
			fail "$1: peers shows path $(ntm_peer_field "$1" "$2" path) to $2, want $3"
		if [ "$3" = relay ]; then
			y=$(ntm_peer_field "$1" "$2" rs)
			case "$y" in
			"$RS4":7100 | "[$(tb_addr6 relay)]":7100) ;;
			*) fail "$1: peers shows rs '$y' for $2" ;;
			esac
		fi
	done
}

# traffic FROM TO: ping and a TCP transfer with sha256 over the VIPs.
traffic() {
	local v4=V4_$2
	tb_exec "$1" ping -c 3 -i 0.2 -W 5 "${!v4}" >/dev/null || fail "$1: ping ${!v4} ($2)"
	ntm_transfer "$1" "$2" "${!v4}" 1M
}

for pair in "${PAIRS[@]}"; do
	set -- $pair
	echo "# $1 <-> $2: want $3"
	resolve "$1" "$2" "$3"
	if [ "$3" != relay ]; then
		# Not relayed: ping --until-direct answers at once, with the same path.
		line=$("$NTMCTL" -s "$D/$1.sock" ping "$2.example.net" --until-direct) ||
			fail "$1: ping --until-direct $2 exited $?"
		[ "$(echo "$line" | awk '{ print $4 }')" = "$3" ] || fail "$1: ping printed '$line'"
	fi
	traffic "$1" "$2"
	traffic "$2" "$1"
	check_peers "$1" "$2" "$3"
done
echo "nat_matrix.sh: PASS"
