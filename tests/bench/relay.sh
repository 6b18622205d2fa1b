#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/relay.sh: forwarding rate of ntm-rs (issue 6). Not part of CI.
# ntm-dc and one ntm-rs on public hosts, node a IPv4-only and node b
# IPv6-only (so every frame crosses address families), played by
# tests/cli/ctrl_client --flood: a sends 1208-byte relay frames as fast as
# one blocking socket takes them for BENCH_SECS seconds, b counts what
# arrives. Each run is a fresh relay session. The table shows median, min,
# avg and max over the runs of: frames/s received, Mbit/s received (relay
# frames, UDP payload), loss (sent but not received: the relay, the
# receiver's socket buffer or the links), and the relay's CPU use (user+sys
# from /proc/PID/stat over the run, % of one CPU). The sender is one
# process on the same machine, so this measures the relay under that load,
# not its ceiling.
#
#   sudo TB_BUILDDIR=build-rel tests/bench/relay.sh
#
# Environment: BENCH_SECS (5), BENCH_RUNS (3), TB_BUILDDIR.
# Needs: root, jq.
set -eu
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

SECS=${BENCH_SECS:-5}
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

: >"$D/rows"
for ((r = 1; r <= RUNS; r++)); do
	tb_spawn b "b$r" "$CLIENT" --key "$D/b.key" --dc-key "$DCPUB" --dc "[$DC6]:7000" \
		relay b.example.net --flood "$SECS"
	pb=$TB_PID
	tb_wait_for 10 grep -q keepalive "$(tb_log "b$r")" || fail "b$r did not register"
	t0=$(cpu_ticks "$RS_PID")
	tb_spawn a "a$r" "$CLIENT" --key "$D/a.key" --dc-key "$DCPUB" --dc "$DC4:7000" \
		relay a.example.net --to b.example.net --flood "$SECS"
	pa=$TB_PID
	wait "$pa" || fail "a$r: $(cat "$(tb_log "a$r")")"
	wait "$pb" || fail "b$r: $(cat "$(tb_log "b$r")")"
	t1=$(cpu_ticks "$RS_PID")
	awk -v s="$(field "a$r" flood_sent)" -v f="$(field "b$r" flood_frames)" \
		-v ms="$(field "b$r" flood_ms)" -v cpu=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
		-v secs="$SECS" 'BEGIN {
			if (ms <= 0) ms = 1
			loss = 0
			if (s > 0) loss = 100 * (s - f) / s
			printf "%.0f %.1f %.2f %.1f\n", f * 1000 / ms, f * 1208 * 8 / ms / 1000, loss, 100 * cpu / hz / secs
		}' >>"$D/rows"
done

stats() {
	sort -n | awk '{ v[NR] = $1; s += $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%12.1f %12.1f %12.1f %12.1f\n", m, v[1], s / NR, v[NR]
	}'
}

printf "ntm-rs forwarding, IPv4 -> IPv6, 1208-byte frames, %d runs of %d s\n" "$RUNS" "$SECS"
printf "%-16s %12s %12s %12s %12s\n" metric median min avg max
printf "%-16s " "frames/s";	awk '{ print $1 }' "$D/rows" | stats
printf "%-16s " "Mbit/s";	awk '{ print $2 }' "$D/rows" | stats
printf "%-16s " "loss %";	awk '{ print $3 }' "$D/rows" | stats
printf "%-16s " "ntm-rs CPU %";	awk '{ print $4 }' "$D/rows" | stats
# Where the loss is: sent by a, received and forwarded by the relay (the
# rest of the loss is the receiver's: one recv per datagram).
for ((r = 1; r <= RUNS; r++)); do
	field "a$r" flood_sent
done | awk '{ s += $1 } END { printf "all runs: a sent %d;", s }'
"$NTMCTL" -s "$D/rs.sock" --json status | jq -r '.counters |
	" ntm-rs received \(.rx), forwarded \(.forwarded), tx_errors \(.tx_errors)," +
	" \(.rx / .rx_batches * 10 | floor / 10) datagrams per recvmmsg"'
tb_kill "$RS_PID"
tb_kill "$DC_PID"
