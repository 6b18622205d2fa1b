#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/relay.sh: forwarding rate of ntm-rs (issue 6). Not part of CI.
# ntm-dc and one ntm-rs on public hosts, node a IPv4-only and node b
# IPv6-only (so every frame crosses address families), played by
# tests/cli/ctrl_client --flood: a sends BENCH_SIZE-byte (1400) relay frames as fast as
# one blocking socket takes them for BENCH_SECS seconds, b counts what
# arrives. Each run is a fresh relay session. The table shows median, min,
# avg and max over the runs of: frames/s received, Mbit/s received (relay
# frames, UDP payload), loss (sent but not received: the relay, the
# receiver's socket buffer or the links), and the relay's CPU use (user+sys
# from /proc/PID/stat over the run, % of one CPU). The sender is one
# process on the same machine, so this measures the relay under that load,
# not its ceiling. Each run is followed by the same flood through the
# baseline, tests/bench/udpfwd (recvmmsg/sendmmsg, no parsing) on the
# relay's host; the ratio of the medians is printed.
#
#   sudo TB_BUILDDIR=build-rel tests/bench/relay.sh
#
# Environment: BENCH_SECS (5), BENCH_RUNS (3), BENCH_SIZE (1400), TB_BUILDDIR.
# Needs: root, jq.
set -eu
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

SECS=${BENCH_SECS:-5}
SIZE=${BENCH_SIZE:-1400}
RUNS=${BENCH_RUNS:-3}

fail() {
	echo "relay.sh: FAIL: $*" >&2
	exit 1
}

tb_init
command -v jq >/dev/null || fail "jq missing"
DC=$(tb_bin dc/ntm-dc)
RS=$(tb_bin rs/ntm-rs)
NTMCTL=$(tb_bin ntmctl/ntmctl)
CLIENT=$(tb_bin tests/cli/ctrl_client)
FWD=$(tb_bin tests/bench/udpfwd)
D=$TB_DIR

tb_public_host dc
tb_public_host rs
tb_public_host a --v4-only
tb_public_host b --v6-only
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
for k in dc rs a b; do
	"$NTMCTL" genkey >"$D/$k.key"
done
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 25 >"$D/dc.conf"
ntm_dc_start 1 "$DC" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
ctl() {
	"$NTMCTL" -s "$D/dc.sock" "$@"
}
ctl enroll a.example.net "$("$NTMCTL" pubkey <"$D/a.key")" >/dev/null
ctl enroll b.example.net "$("$NTMCTL" pubkey <"$D/b.key")" >/dev/null
ctl enroll --relay rs1 "$("$NTMCTL" pubkey <"$D/rs.key")" >/dev/null
cat >"$D/rs.conf" <<EOF
[RS]
PrivateKeyFile = $D/rs.key
Listen = $(tb_addr4 rs):7100, [$(tb_addr6 rs)]:7100
SessionRate = 0
[DC]
Endpoint = $DC4:7000
PublicKey = $DCPUB
EOF
tb_spawn rs rs "$RS" -f -c "$D/rs.conf" -s "$D/rs.sock"
RS_PID=$TB_PID
tb_wait_for 10 sh -c "[ \"\$('$NTMCTL' -s '$D/dc.sock' --json relays | jq length)\" = 1 ]" ||
	fail "the relay did not register"

cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

field() {
	awk -v k="$2" '$1 == k { print $2 }' "$(tb_log "$1")"
}

# run R KIND: one flood of KIND "rs" (through ntm-rs) or "fwd" (through the baseline
# forwarder, on the same host, with the same sender and receiver); appends a row to rows.KIND.
run() {
	local r=$1 kind=$2 pid via="" port=""
	if [ "$kind" = fwd ]; then
		via="--via $(tb_addr4 rs):7200"
		port="--port 7300"
		pid=$FWD_PID
	else
		pid=$RS_PID
	fi
	tb_spawn b "b$kind$r" "$CLIENT" --key "$D/b.key" --dc-key "$DCPUB" --dc "[$DC6]:7000" \
		$port relay b.example.net --flood "$SECS"
	pb=$TB_PID
	tb_wait_for 10 grep -q keepalive "$(tb_log "b$kind$r")" || fail "b$kind$r did not register"
	t0=$(cpu_ticks "$pid")
	tb_spawn a "a$kind$r" "$CLIENT" --key "$D/a.key" --dc-key "$DCPUB" --dc "$DC4:7000" \
		relay a.example.net --to b.example.net --flood "$SECS" --size "$SIZE" $via
	pa=$TB_PID
	wait "$pa" || fail "a$kind$r: $(cat "$(tb_log "a$kind$r")")"
	wait "$pb" || fail "b$kind$r: $(cat "$(tb_log "b$kind$r")")"
	t1=$(cpu_ticks "$pid")
	awk -v s="$(field "a$kind$r" flood_sent)" -v f="$(field "b$kind$r" flood_frames)" \
		-v ms="$(field "b$kind$r" flood_ms)" -v cpu=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
		-v secs="$SECS" -v size="$SIZE" 'BEGIN {
			if (ms <= 0) ms = 1
			loss = 0
			if (s > 0) loss = 100 * (s - f) / s
			printf "%.0f %.1f %.2f %.1f\n", f * 1000 / ms, f * size * 8 / ms / 1000, loss, 100 * cpu / hz / secs
		}' >>"$D/rows.$kind"
}

# The baseline: tests/bench/udpfwd on the relay's host, forwarding to b's fixed port over IPv6.
tb_spawn rs udpfwd "$FWD" 7200 "$(tb_addr6 b)" 7300
FWD_PID=$TB_PID
tb_wait_for 5 grep -q '^ready' "$(tb_log udpfwd)" || fail "udpfwd did not start"

: >"$D/rows.rs"
: >"$D/rows.fwd"
for ((r = 1; r <= RUNS; r++)); do
	run "$r" rs
	run "$r" fwd
done

stats() {
	sort -n | awk '{ v[NR] = $1; s += $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%12.1f %12.1f %12.1f %12.1f\n", m, v[1], s / NR, v[NR]
	}'
}

median() {
	awk "{ print \$$2 }" "$D/rows.$1" | stats | awk '{ print $1 }'
}

printf "relay forwarding, IPv4 -> IPv6, %d-byte datagrams, %d runs of %d s each\n" "$SIZE" "$RUNS" "$SECS"
printf "%-24s %12s %12s %12s %12s\n" metric median min avg max
for kind in rs fwd; do
	name="ntm-rs"
	[ $kind = fwd ] && name="udpfwd (baseline)"
	printf "%-24s " "$name pkt/s";	awk '{ print $1 }' "$D/rows.$kind" | stats
	printf "%-24s " "$name Mbit/s";	awk '{ print $2 }' "$D/rows.$kind" | stats
	printf "%-24s " "$name loss %";	awk '{ print $3 }' "$D/rows.$kind" | stats
	printf "%-24s " "$name CPU %";	awk '{ print $4 }' "$D/rows.$kind" | stats
done
awk -v a="$(median rs 1)" -v b="$(median fwd 1)" 'BEGIN {
	printf "ntm-rs / baseline (median pkt/s): %.2f\n", (b > 0 ? a / b : 0) }'
# Where the loss is: sent by a, received and forwarded by the relay (the
# rest of the loss is the receiver's: one recv per datagram).
for ((r = 1; r <= RUNS; r++)); do
	field "ars$r" flood_sent
done | awk '{ s += $1 } END { printf "ntm-rs runs: a sent %d;", s }'
"$NTMCTL" -s "$D/rs.sock" --json status | jq -r '.counters |
	" ntm-rs received \(.rx), forwarded \(.forwarded), tx_errors \(.tx_errors)," +
	" \(.rx / .rx_batches * 10 | floor / 10) datagrams per recvmmsg"'
tb_kill "$FWD_PID"
tb_kill "$RS_PID"
tb_kill "$DC_PID"
