#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/paths.sh: what each path type costs (issue 6). Not part of CI.
# One DC and two relays on the public core; node pairs: both public
# (direct), each behind its own cone NAT (punched), both behind one cone NAT
# (same-nat), each behind a symmetric NAT (relay). Every node's own link
# gets a one-way delay of RTT/4 through tests/netns/linkemu, so any two
# nodes see BENCH_RTT ms of round trip (none with 0: plain veth).
#
# Each run restarts both nodes of a pair (no tunnel, no cached peer) and
# measures, from the start of `ntmctl resolve` on the first node:
#   resolve ms     resolve's own figure (request to completed handshake)
#   first reply ms until the first answer to a ping over the tunnel
#   direct ms      until `ntmctl ping --until-direct` returns (relay: none)
# then RTT (ping -c 10 over the tunnel, avg) and TCP throughput (iperf3,
# one stream, BENCH_SECS s). Then the RS failover time: the relayed pair,
# the relay in use killed (SIGKILL) while a ping runs, the time from the
# kill to the next answer; the killed relay is started again for the next
# run. Tables: median, min, avg, max over BENCH_RUNS runs. Without
# BENCH_RTT the script runs itself for 0 and 10 ms.
#
#   sudo TB_BUILDDIR=build-rel tests/bench/paths.sh
#
# Environment: BENCH_RTT (0 10), BENCH_RUNS (3), BENCH_SECS (3), TB_BUILDDIR.
# Needs: root, jq, iperf3, ethtool (linkemu).
set -eu

if [ -z "${BENCH_RTT:-}" ]; then
	for rtt in 0 10; do
		BENCH_RTT=$rtt "$0" || exit 1
	done
	exit 0
fi

. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECS:-3}

fail() {
	echo "paths.sh: FAIL: $*" >&2
	exit 1
}

tb_init
for t in jq iperf3; do
	command -v $t >/dev/null || fail "$t missing"
done
DCBIN=$(tb_bin dc/ntm-dc)
RSBIN=$(tb_bin rs/ntm-rs)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR
DL=()
if [ "$BENCH_RTT" != 0 ]; then
	DL=(--delay "$(awk -v r="$BENCH_RTT" 'BEGIN { print r / 4 }')")
fi

tb_public_host dc
tb_public_host rs1
tb_public_host rs2
tb_public_host p1 "${DL[@]}"
tb_public_host p2 "${DL[@]}"
tb_router rc1 cone
tb_router rc2 cone
tb_router rm cone
tb_router rs1r symmetric
tb_router rs2r symmetric
tb_nat_host c1 rc1 "${DL[@]}"
tb_nat_host c2 rc2 "${DL[@]}"
tb_nat_host m1 rm "${DL[@]}"
tb_nat_host m2 rm "${DL[@]}"
tb_nat_host s1 rs1r "${DL[@]}"
tb_nat_host s2 rs2r "${DL[@]}"
NODES="p1 p2 c1 c2 m1 m2 s1 s2"
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
ntm_keys "$D" dc rs1 rs2 $NODES
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5 >"$D/dc.conf"
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
dcctl() {
	"$NTMCTL" -s "$D/dc.sock" "$@"
}

# rs_start HOST: the relay on HOST (PID_HOST).
rs_start() {
	ntm_rs_conf "$D/$1.key" "$(tb_addr4 "$1"):7100, [$(tb_addr6 "$1")]:7100" \
		"$DC4:7000, [$DC6]:7000" "$DCPUB" >"$D/$1.conf"
	tb_spawn "$1" "$1.$(date +%s%N)" "$RSBIN" -f -c "$D/$1.conf" -s "$D/$1.sock"
	eval "PID_$1=\$TB_PID"
}
relays_up() {
	[ "$(dcctl --json relays | jq length)" -ge "$1" ]
}
for r in rs1 rs2; do
	dcctl enroll --relay $r "$("$NTMCTL" pubkey <"$D/$r.key")" >/dev/null
	rs_start $r
done
tb_wait_for 20 relays_up 2 || fail "the relays did not register"

for n in $NODES; do
	dcctl enroll "$n.example.net" "$("$NTMCTL" pubkey <"$D/$n.key")" >/dev/null
	{
		# A fixed port: a restarted node keeps its NAT mapping's inside port.
		printf '[Interface]\nPrivateKeyFile = %s\nName = %s.example.net\nListenPort = 51820\n\n' \
			"$D/$n.key" "$n"
		printf '[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' "$DC4" "$DCPUB"
	} >"$D/$n.conf"
done

registered() {
	[ "$("$NTMCTL" -s "$D/$1.sock" --json status | jq -r .dc.state)" = registered ] &&
		[ "$("$NTMCTL" -s "$D/$1.sock" --json status | jq -r .dc.nat)" != null ]
}

nat_of() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r .dc.nat
}

# node_start NAME: a fresh ntm-node (PID_NAME), registered with the NAT class its
# host must get; a node the DC classified otherwise is started again (counted in
# misclassified: a finding, not the path under test).
node_start() {
	local want=eim try
	case "$1" in
	p*) want=public ;; s*) want=edm ;;
	esac
	for try in 1 2 3; do
		tb_spawn "$1" "node_$1.$(date +%s%N)" "$NODE" -f -c "$D/$1.conf" -i ntm0 -s "$D/$1.sock"
		eval "PID_$1=\$TB_PID"
		tb_wait_for 20 registered "$1" || fail "$1 did not register"
		sleep 0.5 # the AltListen probe may still refine the class
		[ "$(nat_of "$1")" = "$want" ] && return 0
		echo "$1: classified $(nat_of "$1"), want $want" >>"$D/misclassified"
		node_stop "$1"
	done
	fail "$1: the wrong NAT class three times: $(cat "$D/misclassified")"
}

node_stop() {
	local p
	eval "p=\$PID_$1"
	tb_kill "$p"
}

now_ms() {
	date +%s%3N
}

vip_of() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r .dc.vip4
}

# measure A B PATH: one run; appends "resolve first direct rtt mbit" to rows.PATH.
measure() {
	local a=$1 b=$2 path=$3 t0 line ms first direct=- rtt mbit vip i
	node_start "$a"
	node_start "$b"
	vip=$(vip_of "$b")
	tb_spawn "$b" "iperf_$b.$(date +%s%N)" iperf3 -s -1
	local ip=$TB_PID
	t0=$(now_ms)
	line=$("$NTMCTL" -s "$D/$a.sock" resolve "$b.example.net") || fail "$a: resolve $b"
	set -- $line
	[ "$4" = "$path" ] || fail "$a -> $b: path $4, want $path"
	ms=$5
	for ((i = 0; i < 100; i++)); do
		tb_exec "$a" ping -c 1 -W 1 "$vip" >/dev/null 2>&1 && break
	done
	first=$(($(now_ms) - t0))
	if [ "$path" != relay ]; then
		"$NTMCTL" -s "$D/$a.sock" ping "$b.example.net" --until-direct >/dev/null ||
			fail "$a: ping --until-direct"
		direct=$(($(now_ms) - t0))
	fi
	rtt=$(tb_exec "$a" ping -c 10 -i 0.2 -W 2 -q "$vip" | awk -F/ '/^rtt/ { print $5 }')
	tb_wait_listen "$b" tcp 5201 || fail "$b: no iperf3 server"
	mbit=$(tb_exec "$a" iperf3 -c "$vip" -t "$SECS" -J |
		jq '.end.sum_received.bits_per_second / 1e6')
	wait "$ip" 2>/dev/null || true
	echo "$ms $first $direct ${rtt:--} $mbit" >>"$D/rows.$path"
	node_stop "$a"
	node_stop "$b"
}

# failover: the relayed pair, the relay in use killed; appends ms to rows.failover.
failover() {
	local vip t0 rs host i
	node_start s1
	node_start s2
	vip=$(vip_of s2)
	"$NTMCTL" -s "$D/s1.sock" resolve s2.example.net >/dev/null || fail "s1: resolve s2"
	tb_exec s1 ping -c 2 -W 2 "$vip" >/dev/null || fail "s1: no ping"
	rs=$("$NTMCTL" -s "$D/s1.sock" --json peers | jq -r '.[0].rs')
	host=rs1
	[ "$rs" = "$(tb_addr4 rs2):7100" ] && host=rs2
	t0=$(now_ms)
	tb_kill_now "$host"
	for ((i = 0; i < 600; i++)); do
		tb_exec s1 ping -c 1 -W 0.1 "$vip" >/dev/null 2>&1 && break
	done
	echo $(($(now_ms) - t0)) >>"$D/rows.failover"
	rs_start "$host"
	node_stop s1
	node_stop s2
	tb_wait_for 20 relays_up 2 || fail "$host did not register again"
}

# tb_kill_now HOST: SIGKILL the relay on HOST (a crash, not a shutdown).
tb_kill_now() {
	local p
	eval "p=\$PID_$1"
	kill -KILL "$p"
	wait "$p" 2>/dev/null || true
}

for ((r = 1; r <= RUNS; r++)); do
	measure p1 p2 direct
	measure c1 c2 punched
	measure m1 m2 same-nat
	measure s1 s2 relay
	failover
done

stats() {
	sort -n | awk '$1 != "-" { v[++n] = $1; s += $1 } END {
		if (n == 0) { printf "%10s %10s %10s %10s\n", "-", "-", "-", "-"; exit }
		m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%10.1f %10.1f %10.1f %10.1f\n", m, v[1], s / n, v[n]
	}'
}

echo
printf "paths at %s ms emulated RTT, %d runs (resolve, first reply and direct: ms from the start of resolve)\n" \
	"$BENCH_RTT" "$RUNS"
printf "%-10s %-16s %10s %10s %10s %10s\n" path metric median min avg max
METRICS=("resolve ms" "first reply ms" "direct ms" "RTT ms" "TCP Mbit/s")
for p in direct punched same-nat relay; do
	for i in 0 1 2 3 4; do
		printf "%-10s %-16s " "$p" "${METRICS[$i]}"
		awk -v c=$((i + 1)) '{ print $c }' "$D/rows.$p" | stats
	done
done
printf "%-10s %-16s " relay "RS failover ms"
stats <"$D/rows.failover"
if [ -s "$D/misclassified" ]; then
	echo "nodes started again because the DC gave the wrong NAT class: $(wc -l <"$D/misclassified")"
	sed 's/^/  /' "$D/misclassified"
fi
tb_kill "$DC_PID"
