#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/dataplane.sh: data-plane speed of ntm-node (issue 4). Not part
# of CI. Two namespaces joined by one plain veth (lib.sh tb_link); three
# configurations measured in alternation, round after round:
#   veth   the bare link (10.200.0.1 <-> 10.200.0.2)
#   ntm    ntm-node <-> ntm-node over it (10.201.0.1 <-> 10.201.0.2, MTU 1420)
#   wggo   wireguard-go <-> wireguard-go over it (10.202.0.1 <-> 10.202.0.2)
# Each round: iperf3 TCP, one stream, a -> b for BENCH_SECS seconds, and
# BENCH_PINGS pings a -> b at 0.02 s. Per configuration the table shows the
# medians over the rounds of: throughput, median RTT, RTT added to the bare
# link, CPU seconds (user+sys from /proc/PID/stat of both tunnel daemons; for
# veth, the two iperf3 processes as iperf3 reports them) per Gbit moved, and the throughput ratios against veth and
# wireguard-go.
#
#   sudo BENCH_SECS=3 BENCH_RUNS=1 tests/bench/dataplane.sh        # quick
#   sudo tests/bench/dataplane.sh --csv                             # + CSV
#
# Environment: BENCH_SECS (10), BENCH_RUNS (3), BENCH_PINGS (50),
# BENCH_CONFIGS ("veth ntm wggo"), TB_BUILDDIR (where ntm-node was built).
# Needs: root, iproute2, iperf3, wireguard-go, wg.
set -eu
. "$(dirname "$0")/../netns/lib.sh"

SECS=${BENCH_SECS:-10}
RUNS=${BENCH_RUNS:-3}
PINGS=${BENCH_PINGS:-50}
CONFIGS=${BENCH_CONFIGS:-veth ntm wggo}
CSV=
[ "${1:-}" = --csv ] && CSV=1

fail() {
	echo "dataplane.sh: FAIL: $*" >&2
	exit 1
}

tb_init
for t in iperf3 wireguard-go wg; do
	command -v "$t" >/dev/null || fail "$t missing"
done
NODE=$(tb_bin endnode/ntm-node)
D=$TB_DIR
WGIF=wgb$$
WGIF=${WGIF:0:13}

tb_node a
tb_node b
tb_link a b
tb_exec a ip addr add 10.200.0.1/24 dev to_b
tb_exec b ip addr add 10.200.0.2/24 dev to_a

umask 077
for n in a b; do
	wg genkey >"$D/$n.key"
	wg pubkey <"$D/$n.key" >"$D/$n.pub"
done

# ---------------------------------------------------------------- tunnels

ntm_conf() { # SELF PEER SELF-NUM PEER-NUM
	cat >"$D/ntm-$1.conf" <<EOF
[Interface]
PrivateKeyFile = $D/$1.key
ListenPort = 51820
Address = 10.201.0.$3/24
MTU = 1420

[Peer]
PublicKey = $(cat "$D/$2.pub")
Endpoint = 10.200.0.$4:51820
AllowedIPs = 10.201.0.$4/32
EOF
}

# Sets PID_A and PID_B: the processes whose CPU time is counted.
up_ntm() {
	ntm_conf a b 1 2
	ntm_conf b a 2 1
	tb_spawn a ntm_a "$NODE" -f -c "$D/ntm-a.conf" -i ntm0 -s "$D/a.sock"
	PID_A=$TB_PID
	tb_spawn b ntm_b "$NODE" -f -c "$D/ntm-b.conf" -i ntm0 -s "$D/b.sock"
	PID_B=$TB_PID
	tb_wait_for 5 test -S "$D/a.sock" -a -S "$D/b.sock" || fail "ntm-node did not start"
	tb_exec a ping -c 1 -W 5 10.201.0.2 >/dev/null || fail "no ntm tunnel"
}

down_ntm() {
	tb_kill "$PID_A"
	tb_kill "$PID_B"
}

wg_one() { # NODE SELF-NUM PEER
	local if="$WGIF$1" num=$2
	tb_spawn "$1" "wg_$1" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$if"
	TB_WG_PID=$TB_PID
	tb_wait_for 5 test -S "/var/run/wireguard/$if.sock" || fail "wireguard-go did not start"
	tb_exec "$1" wg set "$if" private-key "$D/$1.key" listen-port 51830 \
		peer "$(cat "$D/$3.pub")" endpoint "10.200.0.$((3 - num)):51830" \
		allowed-ips "10.202.0.$((3 - num))/32"
	tb_exec "$1" ip addr add "10.202.0.$num/24" dev "$if"
	tb_exec "$1" ip link set "$if" mtu 1420 up
}

up_wggo() {
	wg_one a 1 b
	PID_A=$TB_WG_PID
	wg_one b 2 a
	PID_B=$TB_WG_PID
	tb_exec a ping -c 1 -W 5 10.202.0.2 >/dev/null || fail "no wireguard-go tunnel"
}

down_wggo() {
	tb_kill "$PID_A"
	tb_kill "$PID_B"
	tb_wait_for 5 sh -c "! test -e /var/run/wireguard/${WGIF}a.sock" || true
	tb_wait_for 5 sh -c "! test -e /var/run/wireguard/${WGIF}b.sock" || true
}

up_veth() {
	PID_A= PID_B=
}

down_veth() {
	:
}

dst_of() {
	case $1 in
	veth) echo 10.200.0.2 ;;
	ntm) echo 10.201.0.2 ;;
	wggo) echo 10.202.0.2 ;;
	esac
}

# ---------------------------------------------------------------- measuring

# utime + stime of PIDs, in clock ticks.
cpu_ticks() {
	local sum=0 p f
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		# Fields 14 and 15, counted after the ")" that ends the command name.
		f=$(sed 's/.*) //' "/proc/$p/stat")
		sum=$((sum + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	echo "$sum"
}

# Runs one measurement of CONFIG; appends "CONFIG MBIT RTT_MS CPU_S_PER_GBIT" to results.
measure() {
	local cfg=$1 dst srv t0 t1 bits mbit rtt cpu hz
	dst=$(dst_of "$cfg")
	"up_$cfg"
	tb_spawn b "iperf3_$cfg" iperf3 -s -1 -B "$dst"
	srv=$TB_PID
	tb_wait_listen b tcp 5201
	tb_exec a ping -q -c 3 -i 0.02 "$dst" >/dev/null || true
	if [ "$cfg" = veth ]; then
		t0=0
	else
		t0=$(cpu_ticks "$PID_A" "$PID_B")
	fi
	tb_exec a iperf3 -c "$dst" -t "$SECS" -J >"$D/iperf.json" || fail "iperf3 $cfg"
	if [ "$cfg" = veth ]; then
		# The bare link has no daemon: the two iperf3 processes' own CPU figures.
		t1=$(awk -F'[:,]' -v hz="$(getconf CLK_TCK)" -v s="$SECS" \
			'/"host_total"|"remote_total"/ { p += $2 } END { printf "%.0f", p / 100 * s * hz }' \
			"$D/iperf.json")
	else
		t1=$(cpu_ticks "$PID_A" "$PID_B")
	fi
	wait "$srv" || true
	bits=$(awk -F'[:,]' '/"bits_per_second"/ { v = $2 } END { print v }' "$D/iperf.json")
	rtt=$(tb_exec a ping -c "$PINGS" -i 0.02 "$dst" | awk -F'time=' '/time=/ { split($2, a, " "); print a[1] }' |
		sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	"down_$cfg"
	hz=$(getconf CLK_TCK)
	mbit=$(awk -v b="$bits" 'BEGIN { printf "%.0f", b / 1e6 }')
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v b="$bits" -v s="$SECS" \
		'BEGIN { printf "%.3f", (t / hz) / (b * s / 1e9) }')
	echo "$cfg $mbit $rtt $cpu" >>"$D/results"
	echo "# round $2: $cfg $mbit Mbit/s, rtt $rtt ms, $cpu cpu-s/Gbit" >&2
}

median() { # CONFIG COLUMN
	awk -v c="$1" -v k="$2" '$1 == c { print $k }' "$D/results" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

report() {
	local c mbit rtt cpu veth_mbit veth_rtt wg_mbit added rv rw
	veth_mbit=$(median veth 2)
	veth_rtt=$(median veth 3)
	wg_mbit=$(median wggo 2)
	echo "# $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${SECS}s x $RUNS rounds"
	printf '%-6s %10s %9s %9s %12s %8s %8s\n' config Mbit/s rtt_ms added_ms cpu_s/Gbit x_veth x_wggo
	: >"$D/csv"
	for c in $CONFIGS; do
		mbit=$(median "$c" 2)
		rtt=$(median "$c" 3)
		cpu=$(median "$c" 4)
		added=$(awk -v a="$rtt" -v b="$veth_rtt" 'BEGIN { if (b == "nan") print "nan"; else printf "%.3f", a - b }')
		rv=$(awk -v a="$mbit" -v b="$veth_mbit" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.3f", a / b }')
		rw=$(awk -v a="$mbit" -v b="$wg_mbit" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.2f", a / b }')
		printf '%-6s %10s %9s %9s %12s %8s %8s\n' "$c" "$mbit" "$rtt" "$added" "$cpu" "$rv" "$rw"
		echo "$c,$mbit,$rtt,$added,$cpu,$rv,$rw" >>"$D/csv"
	done
	if [ -n "$CSV" ]; then
		echo "config,mbit_s,rtt_ms,added_ms,cpu_s_per_gbit,ratio_veth,ratio_wggo"
		cat "$D/csv"
	fi
}

: >"$D/results"
for r in $(seq 1 "$RUNS"); do
	for c in $CONFIGS; do
		measure "$c" "$r"
	done
done
report
