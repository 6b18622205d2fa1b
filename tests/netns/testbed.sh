#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/netns/testbed.sh: the testbed's own test. Proves that each NAT kind
# of lib.sh behaves as named (mappings seen by two public servers S1 and S2),
# that address families are what they claim, and that linkemu delays and
# drops as configured. One "ok - ..." / "not ok - ..." line per check.
set -eu
. "$(dirname "$0")/lib.sh"
tb_init

UP=$(tb_bin udpprobe)
PORT=3478
passed=0
failed=0

check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
}

# query NODE LPORT HOST...: asks each HOST's server from NODE's port LPORT;
# prints the mapping "ADDR PORT" or "timeout" per HOST, one per line.
query() {
	local n=$1 lp=$2 h
	local -a args=()
	shift 2
	for h in "$@"; do
		args+=("$h" "$PORT")
	done
	{ tb_exec "$n" "$UP" query -b "$lp" "${args[@]}" 2>&1 || true; } |
		awk '$3 == "->" { print $4, $5; next } { print "timeout" }'
}

# arrives NODE LPORT FROM DST TEXT: while NODE listens on LPORT, FROM sends
# TEXT from its server port to DST LPORT. True when NODE got it.
arrives() {
	local n=$1 lp=$2 from=$3 dst=$4 text=$5 pid log
	log=$(tb_log "listen-$n-$lp-$text")
	tb_spawn "$n" "listen-$n-$lp-$text" "$UP" listen -t 1000 "$lp"
	pid=$TB_PID
	if ! tb_wait_listen "$n" udp "$lp"; then
		tb_kill "$pid"
		return 1
	fi
	tb_exec "$from" "$UP" send -b "$PORT" "$dst" "$lp" "$text" || true
	wait "$pid" || true
	grep -q "$text" "$log"
}

flat() {
	tr '\n' ' ' <<<"$1"
}

line() {
	sed -n "${2}p" <<<"$1"
}

# same_mapping NODE LPORT ADDR: both servers see one mapping, on ADDR.
same_mapping() {
	local m
	m=$(query "$1" "$2" "$S1" "$S2")
	echo "# $1 port $2 as seen by S1, S2: $(flat "$m")"
	[ "$(line "$m" 1)" = "$(line "$m" 2)" ] && [ "$(line "$m" 1 | cut -d' ' -f1)" = "$3" ]
}

distinct_mappings() {
	local m
	m=$(query "$1" "$2" "$S1" "$S2")
	echo "# $1 port $2 as seen by S1, S2: $(flat "$m")"
	[ "$(line "$m" 1)" != "$(line "$m" 2)" ] && ! grep -q timeout <<<"$m"
}

# ------------------------------------------------------------------ topology

tb_public_host s1
tb_public_host s2
tb_public_host p6 --v6-only
tb_router rc cone
tb_router rs symmetric
tb_router ro open
tb_nat_host hc rc
tb_nat_host hc2 rc
tb_nat_host h4 rc --v4-only
tb_nat_host h6 rc --v6-only
tb_nat_host hs rs
tb_nat_host ho ro
S1=$(tb_addr4 s1) S2=$(tb_addr4 s2) S16=$(tb_addr6 s1) S26=$(tb_addr6 s2)
for n in s1 s2 hc2; do
	tb_spawn "$n" "server-$n" "$UP" server "$PORT"
done
for n in s1 s2 hc2; do
	tb_wait_listen "$n" udp "$PORT" || tb__die "udpprobe server in $n did not start"
done

# ------------------------------------------------------------------ cone

cone_filter_unsolicited() {
	[ "$(query hc 40002 "$S1")" = "$(tb_addr4 rc) 40002" ] &&
		! arrives hc 40002 s2 "$(tb_addr4 rc)" unsolicited
}

cone_filter_solicited() {
	[ "$(query hc 40002 "$S2")" = "$(tb_addr4 rc) 40002" ] &&
		arrives hc 40002 s2 "$(tb_addr4 rc)" solicited
}

cone_v6_unsolicited() {
	! arrives hc 40003 s1 "$(tb_addr6 hc)" unsolicited6
}

cone_v6_routed() {
	[ "$(query hc 40003 "$S16")" = "$(tb_addr6 hc) 40003" ]
}

check "cone: EIM mapping (S1 and S2 see one mapping)" same_mapping hc 40001 "$(tb_addr4 rc)"
check "cone: unsolicited IPv4 from S2 is dropped" cone_filter_unsolicited
check "cone: S2 reaches the host after the host sent to S2" cone_filter_solicited
check "cone: unsolicited IPv6 to the host is dropped" cone_v6_unsolicited
check "cone: IPv6 is routed, not NATed" cone_v6_routed
check "cone: IPv6 from S1 reaches the host after it initiated" \
	arrives hc 40003 s1 "$(tb_addr6 hc)" solicited6

# ------------------------------------------------------------------ symmetric

check "symmetric: EDM mapping (S1 and S2 see different ports)" distinct_mappings hs 40010

# ------------------------------------------------------------------ open

# The DESIGN scenario: ho holds a binding to S2 (its DC) from LPORT; then
# optionally sends a low-TTL probe to S1 (its peer); then S1's own first
# datagram reaches the router's WAN address on LPORT; then ho talks to S1.
# Prints the mappings seen by S2 (first) and S1.
open_probe() {
	query ho "$1" "$S2"
	if [ -n "${2:-}" ]; then
		tb_exec ho "$UP" send -T "$2" -b "$1" "$S1" "$PORT" "ttlprobe-$1"
		sleep 0.1
	fi
	tb_exec s1 "$UP" send -b "$PORT" "$(tb_addr4 ro)" "$1" unsolicited
	sleep 0.1
	query ho "$1" "$S1"
}

# open_case LPORT TTL same|different: runs open_probe and compares.
open_case() {
	local m
	m=$(open_probe "$1" "$2")
	echo "# ho port $1, probe TTL ${2:-none}, seen by S2 then S1: $(flat "$m")"
	! grep -q timeout <<<"$m" || return 1
	[ "$(line "$m" 1)" = "$(tb_addr4 ro) $1" ] || return 1
	if [ "$3" = same ]; then
		[ "$(line "$m" 1)" = "$(line "$m" 2)" ] && ! grep -q "ttlprobe-$1" "$(tb_log server-s1)"
	else
		[ "$(line "$m" 1)" != "$(line "$m" 2)" ]
	fi
}

check "open: EIM mapping without interference" same_mapping ho 40020 "$(tb_addr4 ro)"
check "open: an unsolicited datagram first re-randomises the mapping to S1" \
	open_case 40021 "" different
check "open: a TTL-2 probe first (dies in the core) prevents the clash" open_case 40022 2 same
check "open: a TTL-1 probe dies in the own router and does not" open_case 40023 1 different

# ------------------------------------------------------------------ two hosts, one NAT

same_nat_distinct() {
	local a b
	a=$(query hc 40030 "$S1")
	b=$(query hc2 40030 "$S1")
	echo "# hc and hc2 port 40030 as seen by S1: $a / $b"
	[ "$a" != timeout ] && [ "$b" != timeout ] && [ "$a" != "$b" ]
}

same_nat_private() {
	[ "$(query hc 40031 "$(tb_addr4 hc2)")" = "$(tb_addr4 hc) 40031" ] &&
		[ "$(query hc 40032 "$(tb_addr6 hc2)")" = "$(tb_addr6 hc) 40032" ]
}

check "same NAT: two hosts get distinct mappings at S1" same_nat_distinct
check "same NAT: hosts reach each other by private addresses (v4, v6)" same_nat_private

# ------------------------------------------------------------------ address families

v4_only() {
	[ -z "$(tb_exec h4 ip -6 addr show dev eth0)" ] &&
		[ -z "$(tb_exec h4 ip -6 route show default)" ] &&
		[ "$(query h4 40040 "$S16")" = timeout ] &&
		[ "$(query h4 40041 "$S1" | cut -d' ' -f1)" = "$(tb_addr4 rc)" ]
}

v6_only() {
	[ -z "$(tb_exec "$1" ip -4 addr show dev eth0)" ] &&
		[ -z "$(tb_exec "$1" ip -4 route show)" ] &&
		[ "$(query "$1" 40042 "$S1")" = timeout ] &&
		[ "$(query "$1" 40043 "$S16")" = "$(tb_addr6 "$1") 40043" ]
}

dual_stack() {
	[ "$(query s1 40044 "$S2")" = "$S1 40044" ] && [ "$(query s1 40045 "$S26")" = "$S16 40045" ]
}

check "v4-only host: no IPv6 address or route, S1 unreachable over IPv6 only" v4_only
check "v6-only host behind NAT: no IPv4, reaches S1 over IPv6 only" v6_only h6
check "v6-only public host: no IPv4, reaches S1 over IPv6 only" v6_only p6
check "dual-stack public hosts reach each other over IPv4 and IPv6" dual_stack

# ------------------------------------------------------------------ links

# pair A B ADDR_A ADDR_B [link options]: two bare nodes joined by tb_link.
pair() {
	local a=$1 b=$2 aa=$3 ab=$4
	shift 4
	tb_node "$a"
	tb_node "$b"
	tb_link "$a" "$b" "$@"
	tb_exec "$a" ip addr add "$aa/24" dev "$TB_LINK_IFA"
	tb_exec "$b" ip addr add "$ab/24" dev "$TB_LINK_IFB"
}

pair da db 10.200.1.1 10.200.1.2 delay 10
pair la lb 10.200.2.1 10.200.2.2 loss 20
LOSS_IFA=$TB_LINK_IFA
LOSS_IFB=$TB_LINK_IFB
pair pa pb 10.200.3.1 10.200.3.2
pair ea eb 10.200.4.1 10.200.4.2 delay 0

delay_median() {
	local med
	med=$(tb_exec da ping -n -c 20 -i 0.05 -W 1 10.200.1.2 |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n | awk '{ v[NR] = $1 }
		END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "# delay 10 ms per direction: median ping RTT ${med:-none} ms (expect 20 +/- 1.5)"
	[ -n "$med" ] && awk -v m="$med" 'BEGIN { exit !(m >= 18.5 && m <= 21.5) }'
}

# Loss is per direction: ping loses 1 - 0.8^2 = 36 %; 300 pings give a
# standard deviation of 2.8 points, so [25, 47] is about 4 sigma. The link
# drops ARP too, and a lost ARP exchange costs a second of pings at once (the
# kernel queues only 3 packets while it resolves), so the neighbours are
# fixed first: the check measures the link's loss, not ARP's retry timer.
loss_rate() {
	local pct mac_a mac_b
	mac_a=$(tb_exec la cat "/sys/class/net/$LOSS_IFA/address")
	mac_b=$(tb_exec lb cat "/sys/class/net/$LOSS_IFB/address")
	tb_exec la ip neigh replace 10.200.2.2 lladdr "$mac_b" dev "$LOSS_IFA" nud permanent
	tb_exec lb ip neigh replace 10.200.2.1 lladdr "$mac_a" dev "$LOSS_IFB" nud permanent
	pct=$(tb_exec la ping -n -q -c 300 -i 0.01 -W 1 10.200.2.2 |
		sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
	echo "# loss 20 % per direction: ping loss ${pct:-none} % (expect 36, range 25-47)"
	[ -n "$pct" ] && awk -v p="$pct" 'BEGIN { exit !(p >= 25 && p <= 47) }'
}

plain_link() {
	tb_exec pa ip -d link show to_pb | grep -q "link-netns $(tb_ns pb)" &&
		tb_exec pa ping -n -c 2 -i 0.2 -W 1 10.200.3.2 >/dev/null
}

# iperf3 TCP through linkemu at 0 ms; prints the receiver's throughput.
iperf_through() {
	local out rate
	if ! command -v iperf3 >/dev/null; then
		echo "# iperf3 not installed: not measured"
		return 0
	fi
	tb_spawn "$2" "iperf3-$2" iperf3 -s -1 -p 5201
	tb_wait_listen "$2" tcp 5201 || return 1
	out=$(tb_exec "$1" timeout 20 iperf3 -c "$3" -p 5201 -t 3 -f m 2>&1 || true)
	rate=$(awk '/receiver/ { print $(NF - 2), $(NF - 1) }' <<<"$out")
	echo "# iperf3 TCP through linkemu ($4): ${rate:-failed}"
	[ -n "$rate" ] && awk -v r="${rate% *}" 'BEGIN { exit !(r > 1) }'
}

check "link: delay 10 ms gives a median RTT of 20 ms" delay_median
check "link: loss 20 % per direction drops about 36 % of pings" loss_rate
check "link: plain veth link (no delay) works" plain_link
check "link: iperf3 TCP runs through linkemu at 0 ms" iperf_through ea eb 10.200.4.2 "0 ms"

# ------------------------------------------------------------------ uplinks

# A host behind rc gets a second (public) uplink, loses the first and joins
# rs's LAN: what multi-homing and mobility tests build on.
uplinks() {
	local before after
	tb_nat_host mv rc
	tb_attach_public mv
	before=$(query mv 40060 "$S1")
	tb_detach mv eth0
	tb_attach_lan mv rs
	tb_detach mv eth1
	after=$(query mv 40061 "$S1")
	echo "# mv seen by S1 behind rc: $before; after moving behind rs: $after"
	[ "${before% *}" = "$(tb_addr4 rc)" ] && [ "${after% *}" = "$(tb_addr4 rs)" ] &&
		[ "$(tb_addr4 mv)" = "$(tb_addr4 mv eth2)" ] && [ "${after% *}" != timeout ]
}

check "uplinks: attach, detach and move a host to another NAT" uplinks

# ------------------------------------------------------------------ the library itself

# A child test that builds a small topology with a linkemu wire and a
# spawned process, then dies in MODE (fail: a failing command under set -e;
# term: SIGTERM from outside). Nothing of it may remain.
child_cleanup() {
	local out pid id sleeper rc=0
	out=$(tb_log "child-$1")
	bash -c 'set -eu
		. "$1"
		tb_init
		tb_public_host x
		tb_node y
		tb_link x y delay 1
		tb_spawn y sleeper sleep 60
		echo "$TB_ID $TB_PID"
		[ "$2" = fail ] && false
		sleep 60 &
		wait $!' child "$TB__LIBDIR/lib.sh" "$1" >"$out" 2>/dev/null &
	pid=$!
	# Generous: under a loaded CI machine the sanitizer build of linkemu is slow to start.
	tb_wait_for 30 test -s "$out" || rc=1
	[ "$1" = fail ] || kill -TERM "$pid"
	wait "$pid" || true
	read -r id sleeper <"$out" || return 1
	echo "# child $1: run $id, exit handled, namespaces left: $(ip netns list | grep -c "^tb$id-" || true)"
	[ "$rc" = 0 ] && ! ip netns list | grep -q "^tb$id-" && ! kill -0 "$sleeper" 2>/dev/null
}

# Not root: SKIP (77), except under CI=true where it is a failure (1).
skip_rule() {
	local a=0 b=0
	# shellcheck disable=SC2016 # $1 belongs to the inner shell
	local inner='. "$1"; tb_init'
	local -a nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	command -v setpriv >/dev/null || return 0
	"${nobody[@]}" env -u CI bash -c "$inner" x "$TB__LIBDIR/lib.sh" >/dev/null 2>&1 || a=$?
	"${nobody[@]}" env CI=true bash -c "$inner" x "$TB__LIBDIR/lib.sh" >/dev/null 2>&1 || b=$?
	echo "# not root: exit $a, with CI=true: exit $b"
	[ "$a" = 77 ] && [ "$b" = 1 ]
}

check "cleanup: a failing test leaves no namespace or process" child_cleanup fail
check "cleanup: a test killed with SIGTERM leaves no namespace or process" child_cleanup term
check "not root: exit 77, or 1 when CI=true" skip_rule

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
