#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/resolve.sh: name resolution and tunnel construction on a
# cold peer (issues 5 and 7), against DESIGN "Flows" 2: two sequential round
# trips (node<->DC once, node<->node once) plus processing within a domain,
# three across domains with a warm DC-DC session. Not part of CI.
#
# BENCH_VIA=dns (default): as an application sees it, a DNS query for the
# name at a's DNS stub (dig's "Query time": query sent -> answer received;
# the stub answers once the tunnel is usable), then one ping over the
# tunnel to prove it (not timed). BENCH_VIA=resolve: `ntmctl resolve`.
#
# BENCH_MODES ("same cross"): same: b is b.example.net at a's DC; cross: b
# is b.b.example at a second DC (same delay), federated with a's
# ([Federation] with pinned keys and Endpoint, Allow = * -> *). The first
# run of each case is also printed on its own as "cold" (for cross: no
# DC-DC session yet); the table's min/avg/max cover all runs after it, on
# the warm DC-DC session.
#
# Per case (BENCH_DELAYS: one-way delay in ms on EVERY access link, through
# lib.sh's linkemu, "0" included so that both cases pay the same forwarder):
# a DC and two public nodes a and b (lib.sh tb_public_host); since every
# path between two hosts crosses two access links, each pair's RTT is
# 4 x delay (2.5 -> 10 ms). BENCH_RUNS times: restart a and b (cold: no
# tunnel, no peer entry, on either side; each registers afresh, so the
# node<->DC session is warm, as it is on a running node), wait until both
# are registered, zero the nftables counters, `ntmctl resolve b.example.net`
# on a, read the counters.
#
# Round trips are measured twice:
#   on the wire: named nftables counters in a and b count UDP datagrams by
#     their first byte (ntm control data 0x83 and control handshake
#     0x80-0x82 to/from the DC port; WireGuard initiation 1, response 2,
#     cookie 3, data 4 between the nodes). "rt_dc" is min(requests a sent
#     to the DC, answers a got), "rt_nn" is min(initiations a sent to b,
#     responses a got); medians over the runs. "b_extra" counts what b sent
#     to a beyond its one response (e.g. an initiation of its own);
#   from latency: (avg resolve ms of the case - avg of the first case) /
#     (RTT of the case - RTT of the first case), RTTs from ping a -> DC.
# The times are what `resolve` prints (the node's loop clock, whole ms) and,
# as "wall", ntmctl's run time seen from the shell (adds the CLI's start-up).
#
#   sudo tests/bench/resolve.sh                 # 50 runs at 0 and 10 ms RTT
#   sudo BENCH_RUNS=10 tests/bench/resolve.sh --csv
#   sudo BENCH_MODES=cross BENCH_VIA=resolve tests/bench/resolve.sh
#
# Environment: BENCH_RUNS (50), BENCH_DELAYS ("0 2.5"), BENCH_MODES ("same
# cross"), BENCH_VIA (dns), TB_BUILDDIR.
# Needs: root, jq, dig, ethtool (linkemu).
set -eu
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

RUNS=${BENCH_RUNS:-50}
DELAYS=${BENCH_DELAYS:-0 2.5}
MODES=${BENCH_MODES:-same cross}
VIA=${BENCH_VIA:-dns}
CSV=
[ "${1:-}" = --csv ] && CSV=1

fail() {
	echo "resolve.sh: FAIL: $*" >&2
	exit 1
}

tb_init
command -v jq >/dev/null || fail "jq missing"
command -v dig >/dev/null || [ "$VIA" != dns ] || fail "dig missing"
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR
umask 077

# The counters of one node: to/from the DC port by control type, to/from
# anything else by WireGuard type.
nft_rules() {
	cat <<'EOF'
table inet rtb {
	counter dc_tx {}
	counter dc_rx {}
	counter dchs_tx {}
	counter dchs_rx {}
	counter init_tx {}
	counter init_rx {}
	counter resp_tx {}
	counter resp_rx {}
	counter cookie_tx {}
	counter cookie_rx {}
	counter data_tx {}
	counter data_rx {}
	chain out {
		type filter hook output priority filter; policy accept;
		udp dport 7000 @th,64,8 0x83 counter name dc_tx
		udp dport 7000 @th,64,8 { 0x80, 0x81, 0x82 } counter name dchs_tx
		udp dport != 7000 @th,64,8 1 counter name init_tx
		udp dport != 7000 @th,64,8 2 counter name resp_tx
		udp dport != 7000 @th,64,8 3 counter name cookie_tx
		udp dport != 7000 @th,64,8 4 counter name data_tx
	}
	chain in {
		type filter hook input priority filter; policy accept;
		udp sport 7000 @th,64,8 0x83 counter name dc_rx
		udp sport 7000 @th,64,8 { 0x80, 0x81, 0x82 } counter name dchs_rx
		udp sport != 7000 @th,64,8 1 counter name init_rx
		udp sport != 7000 @th,64,8 2 counter name resp_rx
		udp sport != 7000 @th,64,8 3 counter name cookie_rx
		udp sport != 7000 @th,64,8 4 counter name data_rx
	}
}
EOF
}

# counters NODE: "name packets" lines.
counters() {
	tb_exec "$1" nft list counters table inet rtb |
		awk '/counter / { n = $2 } /packets/ { print n, $2 }'
}

count() { # FILE NAME
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

state() {
	"$NTMCTL" -s "$D/$1.sock" --json status 2>/dev/null | jq -r '.dc.state'
}

is_registered() {
	[ "$(state "$1")" = registered ]
}

# start_node CASE NAME: (re)starts node NAME of case CASE.
start_node() {
	local n=$2$1 p
	p=PID_$n
	[ -z "${!p:-}" ] || tb_kill "${!p}"
	rm -f "$D/$n.sock"
	tb_spawn "$n" "node_$n" "$NODE" -f -c "$D/$n.conf" -i ntm0 -s "$D/$n.sock"
	printf -v "PID_$n" %s "$TB_PID"
}

# dc_start CASE NAME DOMAIN POOL4 POOL6 DELAY [FEDERATION TEXT]: a DC in node NAME$CASE.
dc_start() {
	local c=$1 n=$2$1 dc4
	tb_public_host "$n" --delay "$6"
	dc4=$(tb_addr4 "$n")
	"$NTMCTL" genkey >"$D/$n.key"
	ntm_dc_config "$D/$n.key" "$dc4" "$(tb_addr6 "$n")" "$D/state-$n/dc.db" 25 |
		sed -e "s/^Domain = example.net/Domain = $3/" -e "s#100.80.0.0/16#$4#" \
			-e "s#fd80:1::/64#$5#" >"$D/$n.conf"
}

dc_run() { # NAME
	tb_spawn "$1" "$1" "$DCBIN" -f -c "$D/$1.conf" -s "$D/$1.sock"
	tb_wait_for 10 "$NTMCTL" -s "$D/$1.sock" nodes >/dev/null || fail "ntm-dc $1 did not start"
}

# fed DC PEER-DC PEER-DOMAIN: appends DC's [Federation] section for PEER-DC.
fed() {
	printf '\n[Federation]\nDomain = %s\nPublicKey = %s\nEndpoint = %s:7000\nAllow = * -> *\n' \
		"$3" "$("$NTMCTL" pubkey <"$D/$2.key")" "$(tb_addr4 "$2")" >>"$D/$1.conf"
}

setup_case() { # CASE DELAY MODE
	local c=$1 d=$2 n bdc
	dc_start "$c" dc example.net 100.80.0.0/16 fd80:1::/64 "$d"
	bdc=dc$c
	TARGET=b.example.net
	if [ "$3" = cross ]; then
		dc_start "$c" dcb b.example 100.81.0.0/16 fd81:1::/64 "$d"
		fed "dc$c" "dcb$c" b.example
		fed "dcb$c" "dc$c" example.net
		bdc=dcb$c
		TARGET=b.b.example
		dc_run "$bdc"
	fi
	dc_run "dc$c"
	tb_public_host "a$c" --delay "$d"
	tb_public_host "b$c" --delay "$d"
	for n in a b; do
		local mydc=dc$c name=a.example.net
		[ "$n" = b ] && mydc=$bdc name=$TARGET
		"$NTMCTL" genkey >"$D/$n$c.key"
		"$NTMCTL" -s "$D/$mydc.sock" enroll "$name" \
			"$("$NTMCTL" pubkey <"$D/$n$c.key")" >/dev/null
		{
			printf '[Interface]\nPrivateKeyFile = %s\nName = %s\n\n' "$D/$n$c.key" "$name"
			printf '[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' "$(tb_addr4 "$mydc")" \
				"$("$NTMCTL" pubkey <"$D/$mydc.key")"
		} >"$D/$n$c.conf"
		nft_rules >"$D/rtb.nft"
		tb_exec "$n$c" nft -f "$D/rtb.nft" || fail "nft rules in $n$c"
	done
	RTT=$(tb_exec "a$c" ping -q -c 20 -i 0.05 "$(tb_addr4 "dc$c")" | awk -F/ '/^rtt/ { print $5 }')
	echo "$c $d $RTT $3" >>"$D/rtts"
}

stub_up() {
	"$NTMCTL" -s "$D/$1.sock" --json dns 2>/dev/null | jq -e '.listen | length > 0' >/dev/null
}

# measure CASE: the time of one resolution of $TARGET on a, in ms, on stdout.
measure() {
	local c=$1 out ms vip
	if [ "$VIA" = resolve ]; then
		out=$("$NTMCTL" -s "$D/a$c.sock" resolve "$TARGET") ||
			fail "case $c: resolve exited $?: $(tail -3 "$(tb_log "node_a$c")")"
		set -- $out
		[ "$#" = 5 ] && [ "$1" = "$TARGET" ] || fail "resolve printed '$out'"
		echo "$5"
		return
	fi
	out=$(tb_exec "a$c" dig +time=10 +tries=1 @100.80.0.1 "$TARGET" A) ||
		fail "case $c: dig failed: $(tail -3 "$(tb_log "node_a$c")")"
	grep -q "status: NOERROR" <<<"$out" || fail "case $c: $TARGET: $out"
	ms=$(sed -n 's/^;; Query time: \([0-9]*\) msec.*/\1/p' <<<"$out")
	vip=$(awk '/^;; ANSWER SECTION:/ { on = 1; next } on && $4 == "A" { print $5; exit }' <<<"$out")
	[ -n "$ms" ] && [ -n "$vip" ] || fail "case $c: no time or address in: $out"
	echo "$ms $vip"
}

one_run() { # CASE RUN
	local c=$1 r=$2 line t0 t1 ms
	start_node "$c" a
	start_node "$c" b
	tb_wait_for 20 is_registered "a$c" || fail "a$c did not register"
	tb_wait_for 20 is_registered "b$c" || fail "b$c did not register"
	[ "$VIA" != dns ] || tb_wait_for 20 stub_up "a$c" || fail "a$c: no DNS stub"
	tb_exec "a$c" nft reset counters table inet rtb >/dev/null
	tb_exec "b$c" nft reset counters table inet rtb >/dev/null
	t0=$(date +%s%N)
	line=$(measure "$c")
	t1=$(date +%s%N)
	set -- $line
	ms=${1:-}
	[ -n "$ms" ] || fail "case $c run $r: no measurement"
	counters "a$c" >"$D/ca"
	counters "b$c" >"$D/cb"
	if [ "$VIA" = dns ]; then
		tb_exec "a$c" ping -c 1 -W 3 "$2" >/dev/null || fail "case $c run $r: tunnel to $2 not usable"
	fi
	[ "$r" = 0 ] && echo "$c $ms" >>"$D/cold" && return
	echo "$c $ms $(((t1 - t0) / 1000)) $(count "$D/ca" dc_tx) $(count "$D/ca" dc_rx)" \
		"$(count "$D/ca" init_tx) $(count "$D/ca" resp_rx) $(count "$D/cb" dc_rx)" \
		"$(($(count "$D/cb" init_tx) + $(count "$D/cb" data_tx) + $(count "$D/cb" cookie_tx)))" \
		"$(($(count "$D/ca" dchs_tx) + $(count "$D/ca" dchs_rx)))" \
		"$(count "$D/ca" cookie_rx)" >>"$D/results"
}

: >"$D/results"
: >"$D/rtts"
: >"$D/cold"
c=0
for m in $MODES; do
	for d in $DELAYS; do
		setup_case "$c" "$d" "$m"
		for r in $(seq 0 "$RUNS"); do
			one_run "$c" "$r"
		done
		echo "# case $c ($m, one-way $d ms per access link) done" >&2
		c=$((c + 1))
	done
done

# results: case ms wall_us a_dc_tx a_dc_rx a_init_tx a_resp_rx b_dc_rx b_extra a_dchs a_cookie_rx
col() { # CASE COLUMN -> values
	awk -v c="$1" -v k="$2" '$1 == c { print $k }' "$D/results"
}
stats() { # min avg max
	sort -g | awk '{ v[NR] = $1; s += $1 } END { printf "%s %.2f %s", v[1], s / NR, v[NR] }'
}
median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# $(uname -r), $(nproc) cores; a, b and the DC(s) public (one routed hop apart, linkemu on every access link); via $VIA"
echo "# target (DESIGN Flows 2): same domain 2 sequential round trips (node<->DC, node<->node), cross domain 3 (+ DC<->DC, warm)"
printf '%-12s %4s %8s %8s %26s %10s %6s %6s %8s %8s %8s\n' case runs rtt_ms cold_ms \
	"ms min/avg/max (warm)" wall_ms rt_dc rt_nn b_extra dc_hs rt_lat
: >"$D/csv"
c=0
for m in $MODES; do
	base_avg= base_rtt=
	for d in $DELAYS; do
		rtt=$(awk -v c="$c" '$1 == c { print $3 }' "$D/rtts")
		cold=$(awk -v c="$c" '$1 == c { print $2 }' "$D/cold")
		read -r mn avg mx <<<"$(col "$c" 2 | stats)"
		wall=$(col "$c" 3 | awk '{ s += $1 } END { printf "%.1f", s / NR / 1000 }')
		rtdc=$(paste <(col "$c" 4) <(col "$c" 5) | awk '{ print ($1 < $2) ? $1 : $2 }' | median)
		rtnn=$(paste <(col "$c" 6) <(col "$c" 7) | awk '{ print ($1 < $2) ? $1 : $2 }' | median)
		extra=$(col "$c" 9 | median)
		dchs=$(col "$c" 10 | median)
		if [ -z "$base_avg" ]; then
			base_avg=$avg base_rtt=$rtt lat=-
		else
			lat=$(awk -v a="$avg" -v b="$base_avg" -v r="$rtt" -v q="$base_rtt" \
				'BEGIN { printf "%.2f", (a - b) / (r - q) }')
		fi
		printf '%-12s %4s %8.2f %8s %26s %10s %6s %6s %8s %8s %8s\n' \
			"$m $(awk -v d="$d" 'BEGIN { printf "%gms", 4 * d }')" "$RUNS" "$rtt" "$cold" \
			"$mn / $avg / $mx" "$wall" "$rtdc" "$rtnn" "$extra" "$dchs" "$lat"
		echo "$m,$d,$RUNS,$rtt,$cold,$mn,$avg,$mx,$wall,$rtdc,$rtnn,$extra,$dchs,$lat" >>"$D/csv"
		c=$((c + 1))
	done
done
if [ -n "$CSV" ]; then
	echo "mode,oneway_ms,runs,rtt_ms,cold_ms,min_ms,avg_ms,max_ms,wall_ms,rt_dc,rt_nn,b_extra,dc_hs,rt_latency"
	cat "$D/csv"
fi
