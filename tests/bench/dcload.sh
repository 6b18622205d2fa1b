#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/dcload.sh: capacity of ntm-dc (issue 5). Not part of CI.
# One namespace (lib.sh tb_node) holds a real ntm-dc on 127.0.0.1:7000 and
# the load generator tests/bench/dcload, whose simulated nodes send from
# 127.1.0.1, 127.1.0.2, ... (BENCH_SRCS addresses; all of 127/8 is local on
# lo, so nothing needs configuring): the DC's per-source limits on
# handshake initiations (5/s, burst 10, per hashed source address) stay as
# they are, the load comes from many sources as it would in the field.
#
# For each N in BENCH_COUNTS, BENCH_RUNS times: a fresh database with N
# enrolled nodes (dcload enrol: the DC's own store code, before the DC
# starts), ntm-dc started with KeepaliveInterval = BENCH_KA and
# MaxSessions = BENCH_MAXSESS, then dcload run: every node does the Noise
# control handshake (cookie replies under load included) and REGISTER, at
# most BENCH_WINDOW in flight; then each node sends a KEEPALIVE every
# BENCH_KA seconds for BENCH_DUR seconds. The DC's CPU (utime+stime from
# /proc/PID/stat) and VmRSS (/proc/PID/status) are read at the start, after
# the registrations and at the end. Table (medians over the runs):
#   reg/s        registrations per second (first initiation to last REGISTER_OK)
#   cpu/reg_us   DC CPU per registration (handshake + REGISTER + store lookup)
#   cpu/ka_us    DC CPU per acknowledged keep-alive (includes the DC's
#                batched last_seen writes to SQLite and its 5 s sweeps)
#   rss/node_B   (VmRSS after the registrations - VmRSS before) / nodes
#   fail, retx, cookies, ka_lost: from the last run, as dcload counts them
#   udp_drops    datagrams dropped for a full socket buffer (last run;
#                /proc/net/snmp Udp RcvbufErrors of the namespace)
#
#   sudo tests/bench/dcload.sh                       # 1k, 10k, 100k x 3
#   sudo BENCH_COUNTS="1000" BENCH_RUNS=1 tests/bench/dcload.sh
#   sudo BENCH_DCBIN=/old/build/dc/ntm-dc BENCH_MAXSESS= tests/bench/dcload.sh
#        (another ntm-dc; an empty BENCH_MAXSESS leaves MaxSessions out of
#        the config, for an ntm-dc that predates the key)
#
# Environment: BENCH_COUNTS ("1000 10000 100000"), BENCH_RUNS (3), BENCH_KA
# (10), BENCH_DUR (30), BENCH_WINDOW (192), BENCH_SRCS (4096), BENCH_MAXSESS
# (131072), BENCH_DCBIN (the built dc/ntm-dc), TB_BUILDDIR. Build without
# --enable-sanitizers for meaningful figures. Needs: root.
set -eu
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

COUNTS=${BENCH_COUNTS:-1000 10000 100000}
RUNS=${BENCH_RUNS:-3}
KA=${BENCH_KA:-10}
DUR=${BENCH_DUR:-30}
WINDOW=${BENCH_WINDOW:-192}
SRCS=${BENCH_SRCS:-4096}
MAXSESS=${BENCH_MAXSESS-131072}

fail() {
	echo "dcload.sh: FAIL: $*" >&2
	exit 1
}

tb_init
DCBIN=${BENCH_DCBIN:-$(tb_bin dc/ntm-dc)}
LOAD=$(tb_bin tests/bench/dcload)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR
tb_node dc
ulimit -n $((SRCS + 1024))

umask 077
"$NTMCTL" genkey >"$D/dc.key"
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")

dc_conf() { # DATABASE
	cat <<EOF
[DC]
Domain = example.net
PrivateKeyFile = $D/dc.key
Listen = 127.0.0.1:7000
Pool4 = 100.64.0.0/10
Pool6 = fd80:1::/64
Database = $1
KeepaliveInterval = $KA
EOF
	[ -z "$MAXSESS" ] || echo "MaxSessions = $MAXSESS"
}

# Datagrams the kernel dropped in the namespace for a full socket buffer (either side).
udp_rcvbuf_errors() {
	tb_exec dc awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp
}

# One measurement: N RUN; appends "N key value" lines to $D/results.
measure() {
	local n=$1 r=$2 db="$D/db$1_$2/dc.db" pid
	mkdir -p "${db%/*}"
	"$LOAD" enrol --db "$db" --count "$n" >"$D/enrol.out" || fail "enrol $n"
	dc_conf "$db" >"$D/dc.conf"
	tb_spawn dc "dc$n.$r" "$DCBIN" -f -c "$D/dc.conf" -s "$D/dc.sock"
	pid=$TB_PID
	tb_wait_for 20 test -S "$D/dc.sock" || fail "ntm-dc did not start: $(tail -3 "$(tb_log "dc$n.$r")")"
	tb_wait_listen dc udp 7000 || fail "ntm-dc does not listen"
	sleep 1
	drops0=$(udp_rcvbuf_errors)
	tb_exec dc "$LOAD" run --dc 127.0.0.1:7000 --dc-key "$DCPUB" --count "$n" \
		--src-count "$SRCS" --window "$WINDOW" --keepalive "$KA" --duration "$DUR" \
		--dc-pid "$pid" >"$D/run.out" || echo "# run $n/$r: some nodes failed" >&2
	grep -q '^registered ' "$D/run.out" || fail "dcload run $n failed"
	kill -0 "$pid" 2>/dev/null || fail "ntm-dc died: $(tail -5 "$(tb_log "dc$n.$r")")"
	tb_kill "$pid"
	rm -rf "${db%/*}"
	echo "udp_rcvbuf_drops $(($(udp_rcvbuf_errors) - drops0))" >>"$D/run.out"
	awk -v n="$n" '{ print n, $1, $2 }' "$D/run.out" >>"$D/results"
	echo "# N=$n run $r: $(awk '{ printf "%s=%s ", $1, $2 }' "$D/run.out")" >&2
}

median() { # N KEY
	awk -v n="$1" -v k="$2" '$1 == n && $2 == k { print $3 }' "$D/results" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

last() { # N KEY
	awk -v n="$1" -v k="$2" '$1 == n && $2 == k { v = $3 } END { print v + 0 }' "$D/results"
}

: >"$D/results"
for n in $COUNTS; do
	for r in $(seq 1 "$RUNS"); do
		measure "$n" "$r"
	done
done

echo "# $(uname -r), $(nproc) cores, ntm-dc $DCBIN, KeepaliveInterval $KA s," \
	"keep-alive phase $DUR s, $SRCS source addresses, window $WINDOW, median of $RUNS"
printf '%-7s %5s %8s %9s %11s %10s %11s %6s %6s %8s %7s %9s\n' nodes runs reg/s reg_s cpu/reg_us \
	cpu/ka_us rss/node_B fail retx cookies ka_lost udp_drops
for n in $COUNTS; do
	printf '%-7s %5s %8.0f %9.2f %11.1f %10.1f %11.0f %6d %6d %8d %7d %9d\n' "$n" "$RUNS" \
		"$(median "$n" reg_per_s)" "$(median "$n" reg_s)" "$(median "$n" dc_cpu_per_reg_us)" \
		"$(median "$n" dc_cpu_per_ka_us)" "$(median "$n" dc_rss_per_node_b)" \
		"$(last "$n" failed)" "$(last "$n" retransmits)" "$(last "$n" cookies)" \
		"$(last "$n" ka_lost)" "$(last "$n" udp_rcvbuf_drops)"
done
