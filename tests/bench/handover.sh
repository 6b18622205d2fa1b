#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/bench/handover.sh: handover time of a moving node (issue 8, DESIGN
# "Flows" 5). Not part of CI.
#
# Node a has two IPv4 uplinks into two NATed LANs and moves between them:
# one `ip -batch` deletes its address (and default route) on the current
# uplink and adds them on the other. Its peer b pings a's VIP every 5 ms the
# whole time (ping -D: the arrival time of every reply), so b's packets reach
# a only after a's own probes moved b to a's new address: the gap measures
# ntm's mechanism, not application traffic.
#
#   handover  last reply before the move -> first reply after it (the gap;
#             this includes the move itself, a few ms)
#   after ev  the new address in place -> first reply after it
#
# No baseline row: without ntm's mobility the stationary end keeps sending to
# the dead address (b public: until a sends on its own; b behind a NAT:
# until the tunnel is built again), so there is nothing finite to compare.
#
# Cases: b public (a alternates between a cone and a symmetric NAT; WireGuard
# roaming moves b at once), and b behind a cone NAT (a alternates between two
# cone NATs; b's NAT filters a's new mapping (its flows towards a's next
# router are deleted before each move, so every network is new to it), so
# a has the DC re-direct both ends at its first probe, 100 ms after the
# move, and they punch again). Each at 0 ms and at 10 ms emulated RTT (5 ms
# each way on a's uplinks: between a and everyone else).
# median/min/avg/max over BENCH_MOVES moves; a move not recovered within 20 s counts
# as lost and is left out of the figures.
#
#   sudo TB_BUILDDIR=build tests/bench/handover.sh
#
# Environment: BENCH_MOVES (20), TB_BUILDDIR.
# Needs: root, jq, conntrack.
set -eu
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/ntm.sh"

MOVES=${BENCH_MOVES:-20}

fail() {
	echo "handover.sh: FAIL: $*" >&2
	tb_log_tail 20 >&2 || true
	exit 1
}

tb_init
command -v jq >/dev/null || fail "jq missing"
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

tb_public_host dc
tb_public_host relay
DC4=$(tb_addr4 dc)
umask 077
ntm_keys "$D" dc relay
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$(tb_addr6 dc)" "$D/state/dc.db" 5 >"$D/dc.conf"
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
ntm_rs_start relay "$(tb_addr4 relay):7100" "$DC4:7000" "$DCPUB" -f || fail "ntm-rs did not start"
tb_wait_for 10 ntm_relays_are 1 || fail "the relay did not register"

status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r "$2"
}

registered() {
	[ "$(status "$1" .dc.state)" = registered ] && [ "$(status "$1" .dc.nat)" != null ]
}

node() {
	ntm_keys "$D" "$1" || fail "$1: no key"
	ntm_node_start "$D" "$1" "$DC4:7000" "$DCPUB" -f || fail "$1 did not start"
	tb_wait_for 20 registered "$1" || fail "$1 did not register"
}

# The ip batch that moves NAME from uplink FROM to TO (lib.sh's addresses:
# 10.N.0.x/24 behind a router whose LAN address is 10.N.0.1).
batch() {
	local n=$1 from=$2 to=$3 a_from a_to
	a_from=$(tb_addr4 "$n" "$from")
	a_to=$(tb_addr4 "$n" "$to")
	printf 'addr del %s/24 dev %s\nroute del default dev %s\naddr add %s/24 dev %s\nroute replace default via %s dev %s onlink\n' \
		"$a_from" "$from" "$from" "$a_to" "$to" "${a_to%.*}.1" "$to"
}

# now_s: wall clock in seconds with ns (ping -D stamps are wall clock too).
now_s() {
	date +%s.%N
}

# stats COLUMN FILE: "median min avg max" of a column (lines "lost" skipped).
stats() {
	grep -v lost "$2" | awk -v c="$1" '{ print $c }' | sort -n | awk '
		{ v[NR] = $1; sum += $1 }
		END {
			if (NR == 0) { printf "%7s %7s %7s %7s", "-", "-", "-", "-"; exit }
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%7.1f %7.1f %7.1f %7.1f", med, v[1], sum / NR, v[NR]
		}'
}

# reply_after LOG T: true when LOG has a reply stamped after T.
reply_after() {
	awk -v t="$2" -F'[][]' '/bytes from/ && $2 + 0 > t { found = 1; exit } END { exit !found }' "$1"
}

# run CASE LABEL R1 R2 B-ATTACH DELAY: one row of the table.
run() {
	local c=$1 label=$2 r1=$3 r2=$4 battach=$5 delay=$6 a=a$1 b=b$1 va log i from to rt t0 t1
	local -a opts=(--v4-only)
	[ "$delay" = 0 ] || opts+=(--delay "$((delay / 2))")
	tb_node "$a"
	tb_attach_lan "$a" "$r1" "${opts[@]}"
	tb_attach_lan "$a" "$r2" "${opts[@]}"
	# Start on eth0 alone.
	tb_exec "$a" ip addr del "$(tb_addr4 "$a" eth1)/24" dev eth1
	tb_exec "$a" ip route del default dev eth1 2>/dev/null || true
	tb_node "$b"
	if [ "$battach" = public ]; then
		tb_attach_public "$b" --v4-only
	else
		tb_attach_lan "$b" "$battach" --v4-only
	fi
	node "$a"
	node "$b"
	va=$(status "$a" .dc.vip4)
	"$NTMCTL" -s "$D/$b.sock" resolve "$a.example.net" >/dev/null || fail "$b: resolve $a"
	tb_exec "$b" ping -c 3 -i 0.2 -W 5 "$va" >/dev/null || fail "$b: ping $a"
	batch "$a" eth0 eth1 >"$D/$a.0to1"
	batch "$a" eth1 eth0 >"$D/$a.1to0"
	log=$(tb_log "ping_$c")
	tb_spawn "$b" "ping_$c" ping -D -n -i 0.005 "$va"
	local ping=$TB_PID
	sleep 1
	: >"$D/moves_$c"
	for i in $(seq 1 "$MOVES"); do
		if [ $((i % 2)) = 1 ]; then from=0 to=1 rt=$r2; else from=1 to=0 rt=$r1; fi
		if [ "$battach" != public ]; then
			# A network b's NAT has not seen: forget its flows to a's next router.
			tb_exec "$battach" conntrack -D -p udp --orig-dst "$(tb_addr4 "$rt")" \
				>/dev/null 2>&1 || true
		fi
		t0=$(now_s)
		tb_exec "$a" ip -force -batch "$D/$a.${from}to$to" 2>/dev/null || true
		t1=$(now_s)
		if tb_wait_for 20 reply_after "$log" "$t1"; then
			echo "$t0 $t1" >>"$D/moves_$c"
		else
			echo "$t0 $t1 lost" >>"$D/moves_$c"
		fi
		sleep 0.5
	done
	tb_kill "$ping"
	# Per move: the last reply before t1 and the first after it; "G E" in ms, or "lost".
	awk -F'[][]' '
		FNR == NR { split($0, f, " "); t1[NR] = f[2]; lost[NR] = (f[3] == "lost"); n = NR; next }
		/bytes from/ { ts[++m] = $2 + 0 }
		END {
			for (i = 1; i <= n; i++) {
				if (lost[i]) { print "lost"; continue }
				last = 0; first = 0
				for (j = 1; j <= m; j++) {
					if (ts[j] < t1[i]) last = ts[j]
					else { first = ts[j]; break }
				}
				if (!last || !first) print "lost"
				else printf "%.1f %.1f\n", (first - last) * 1000, (first - t1[i]) * 1000
			}
		}' "$D/moves_$c" "$log" >"$D/gaps_$c"
	printf '%-20s %4s %5s %5s  %s  %s\n' "$label" "$delay" "$(grep -vc lost "$D/gaps_$c")" \
		"$(grep -c lost "$D/gaps_$c" || true)" "$(stats 1 "$D/gaps_$c")" \
		"$(stats 2 "$D/gaps_$c")" >>"$D/table"
}

: >"$D/table"
tb_router rc1 cone
tb_router rsy symmetric
tb_router rc2 cone
tb_router rc3 cone
tb_router rc4 cone
tb_router rc5 cone
tb_router rc6 cone
tb_router rsy2 symmetric
run p0 "b public" rc1 rsy public 0
run c0 "b behind cone NAT" rc2 rc3 rc4 0
run p10 "b public" rc5 rsy2 public 10
run c10 "b behind cone NAT" rc6 rc1 rc3 10

echo "handover of a moving node, $MOVES moves per row (ms)"
printf '%-20s %4s %5s %5s  %7s %7s %7s %7s  %7s %7s %7s %7s\n' case rtt moves lost \
	"ho med" "ho min" "ho avg" "ho max" "ev med" "ev min" "ev avg" "ev max"
cat "$D/table"
