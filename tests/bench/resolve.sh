#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/resolve.sh: `ntmctl resolve` on a cold peer (issue 5), against
# DESIGN "Flows" 2: two sequential round trips (node<->DC once, node<->node
# once) plus processing. Not part of CI.
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
#
# Environment: BENCH_RUNS (50), BENCH_DELAYS ("0 2.5"), TB_BUILDDIR.
# Needs: root, jq, ethtool (linkemu).
set -eu
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

RUNS=${BENCH_RUNS:-50}
DELAYS=${BENCH_DELAYS:-0 2.5}
CSV=
[ "${1:-}" = --csv ] && CSV=1

fail() {
	echo "resolve.sh: FAIL: $*" >&2
	exit 1
}

tb_init
command -v jq >/dev/null || fail "jq missing"
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

setup_case() { # CASE DELAY
	local c=$1 d=$2 n dc4
	tb_public_host "dc$c" --delay "$d"
	tb_public_host "a$c" --delay "$d"
	tb_public_host "b$c" --delay "$d"
	dc4=$(tb_addr4 "dc$c")
	"$NTMCTL" genkey >"$D/dc$c.key"
	ntm_dc_config "$D/dc$c.key" "$dc4" "$(tb_addr6 "dc$c")" "$D/state$c/dc.db" 25 >"$D/dc$c.conf"
	tb_spawn "dc$c" "dc$c" "$DCBIN" -f -c "$D/dc$c.conf" -s "$D/dc$c.sock"
	tb_wait_for 10 "$NTMCTL" -s "$D/dc$c.sock" nodes || fail "ntm-dc $c did not start"
	for n in a b; do
		"$NTMCTL" genkey >"$D/$n$c.key"
		"$NTMCTL" -s "$D/dc$c.sock" enroll "$n.example.net" \
			"$("$NTMCTL" pubkey <"$D/$n$c.key")" >/dev/null
		{
			printf '[Interface]\nPrivateKeyFile = %s\nName = %s.example.net\n\n' \
				"$D/$n$c.key" "$n"
			printf '[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' "$dc4" \
				"$("$NTMCTL" pubkey <"$D/dc$c.key")"
		} >"$D/$n$c.conf"
		nft_rules >"$D/rtb.nft"
		tb_exec "$n$c" nft -f "$D/rtb.nft" || fail "nft rules in $n$c"
	done
	RTT=$(tb_exec "a$c" ping -q -c 20 -i 0.05 "$dc4" | awk -F/ '/^rtt/ { print $5 }')
	echo "$c $d $RTT" >>"$D/rtts"
}

one_run() { # CASE RUN
	local c=$1 r=$2 line t0 t1 ms
	start_node "$c" a
	start_node "$c" b
	tb_wait_for 20 is_registered "a$c" || fail "a$c did not register"
	tb_wait_for 20 is_registered "b$c" || fail "b$c did not register"
	tb_exec "a$c" nft reset counters table inet rtb >/dev/null
	tb_exec "b$c" nft reset counters table inet rtb >/dev/null
	t0=$(date +%s%N)
	line=$("$NTMCTL" -s "$D/a$c.sock" resolve b.example.net) ||
		fail "case $c run $r: resolve exited $?: $(tail -3 "$(tb_log "node_a$c")")"
	t1=$(date +%s%N)
	set -- $line
	[ "$#" = 5 ] && [ "$1" = b.example.net ] || fail "resolve printed '$line'"
	ms=$5
	counters "a$c" >"$D/ca"
	counters "b$c" >"$D/cb"
	echo "$c $ms $(((t1 - t0) / 1000)) $(count "$D/ca" dc_tx) $(count "$D/ca" dc_rx)" \
		"$(count "$D/ca" init_tx) $(count "$D/ca" resp_rx) $(count "$D/cb" dc_rx)" \
		"$(($(count "$D/cb" init_tx) + $(count "$D/cb" data_tx) + $(count "$D/cb" cookie_tx)))" \
		"$(($(count "$D/ca" dchs_tx) + $(count "$D/ca" dchs_rx)))" \
		"$(count "$D/ca" cookie_rx)" >>"$D/results"
}

: >"$D/results"
: >"$D/rtts"
c=0
for d in $DELAYS; do
	setup_case "$c" "$d"
	for r in $(seq 1 "$RUNS"); do
		one_run "$c" "$r"
	done
	echo "# case $c (one-way $d ms per access link) done" >&2
	c=$((c + 1))
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

echo "# $(uname -r), $(nproc) cores; a, b and the DC public (one routed hop apart, linkemu on every access link)"
echo "# target (DESIGN Flows 2): 2 sequential round trips = node<->DC 1 + node<->node 1"
printf '%-8s %4s %8s %26s %10s %6s %6s %8s %8s %8s\n' case runs rtt_ms "resolve ms min/avg/max" \
	wall_ms rt_dc rt_nn b_extra dc_hs rt_lat
: >"$D/csv"
c=0
base_avg= base_rtt=
for d in $DELAYS; do
	rtt=$(awk -v c="$c" '$1 == c { print $3 }' "$D/rtts")
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
	printf '%-8s %4s %8.2f %26s %10s %6s %6s %8s %8s %8s\n' "$(awk -v d="$d" 'BEGIN { printf "%gms", 4 * d }')" \
		"$RUNS" "$rtt" "$mn / $avg / $mx" "$wall" "$rtdc" "$rtnn" "$extra" "$dchs" "$lat"
	echo "$d,$RUNS,$rtt,$mn,$avg,$mx,$wall,$rtdc,$rtnn,$extra,$dchs,$lat" >>"$D/csv"
	c=$((c + 1))
done
if [ -n "$CSV" ]; then
	echo "oneway_ms,runs,rtt_ms,min_ms,avg_ms,max_ms,wall_ms,rt_dc,rt_nn,b_extra,dc_hs,rt_latency"
	cat "$D/csv"
fi
