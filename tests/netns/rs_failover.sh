#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Relay Server failover (DESIGN "Flows" 4): a DC, two relays (rs1, rs2) and
# two ntm-node behind symmetric NATs (a, b), so that their path is the relay.
# While a slow TCP transfer (socat, sha256 on both ends) runs over the
# tunnel:
#   1. rs1, the relay in use, is killed (SIGKILL): both nodes notice the
#      silence, get a new session on rs2 from the DC, and `ntmctl peers`
#      shows rs2;
#   2. rs2, now the only live relay, is killed and started again: the nodes
#      move to a new session on the restarted rs2.
# The transfer is one TCP connection all along: it must complete with the
# right checksum. Then a flood of unauthenticated datagrams at rs2 (random
# bytes, relay frames for unknown and for the live session from a third
# party, BINDs with bad MACs) must not stop it forwarding for the pair
# (ping over the tunnel during the flood), and its counters show the drops.
#
# Needs: root, jq, socat.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "rs_failover.sh: FAIL: $*" >&2
	for l in node_a node_b rs1 rs2 rs2b; do
		[ -f "$(tb_log $l)" ] && { echo "--- $l" >&2; tail -15 "$(tb_log $l)" >&2; }
	done
	exit 1
}

tb_init
ntm_need jq socat sha256sum
DCBIN=$(tb_bin dc/ntm-dc)
RSBIN=$(tb_bin rs/ntm-rs)
NTMCTL=$(tb_bin ntmctl/ntmctl)
CLIENT=$(tb_bin tests/cli/ctrl_client)
D=$TB_DIR

tb_public_host dc
tb_public_host rs1
tb_public_host rs2
tb_public_host m
tb_router ra symmetric
tb_router rb symmetric
tb_nat_host a ra
tb_nat_host b rb
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
ntm_keys "$D" dc rs1 rs2 a b
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5 >"$D/dc.conf"
DCSOCK=$D/dc.sock
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" || fail "ntm-dc did not start"

# rs_start HOST [LOGNAME]: the relay on HOST (PID_HOST).
rs_start() {
	ntm_rs_conf "$D/$1.key" "$(tb_addr4 "$1"):7100, [$(tb_addr6 "$1")]:7100" \
		"$DC4:7000, [$DC6]:7000" "$DCPUB" >"$D/$1.conf"
	tb_spawn "$1" "${2:-$1}" "$RSBIN" -f -v -c "$D/$1.conf" -s "$D/$1.sock"
	eval "PID_$1=\$TB_PID"
}

relays_up() {
	[ "$(dcctl --json relays | jq length)" -ge "$1" ]
}

rs_counter() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".counters.$2"
}

for r in rs1 rs2; do
	dcctl enroll --relay $r "$("$NTMCTL" pubkey <"$D/$r.key")" >/dev/null
done
rs_start rs1
tb_wait_for 20 relays_up 1 || fail "rs1 did not register"

for n in a b; do
	ntm_node_start "$D" "$n" "$DC4:7000" "$DCPUB" || fail "$n did not start"
done

status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".dc.$2"
}
is_registered() {
	[ "$(status "$1" state)" = registered ] && [ "$(status "$1" nat)" = edm ]
}
for n in a b; do
	tb_wait_for 20 is_registered $n || fail "$n did not register as edm: $(status $n state)"
done
VIP_B=$(status b vip4)

# on_relay NODE PEER HOST [NOT_SESSION]: NODE's path to PEER is the relay on HOST, bound
# (and with a session other than NOT_SESSION).
on_relay() {
	[ "$(ntm_peer_field "$1" "$2" path)" = relay ] &&
		[ "$(ntm_peer_field "$1" "$2" rs)" = "$(tb_addr4 "$3"):7100" ] &&
		[ "$(ntm_peer_field "$1" "$2" relay_bound)" = true ] &&
		[ "$(ntm_peer_field "$1" "$2" relay_session)" != "${4:-x}" ]
}

line=$("$NTMCTL" -s "$D/a.sock" resolve b.example.net) || fail "resolve exited $?"
echo "# resolve: $line"
tb_wait_for 20 on_relay a b rs1 || fail "a is not on rs1: $(ntm_peer_field a b rs)"
tb_wait_for 20 on_relay b a rs1 || fail "b is not on rs1: $(ntm_peer_field b a rs)"
tb_exec a ping -c 2 -W 5 "$VIP_B" >/dev/null || fail "no ping over rs1"
rs_start rs2
tb_wait_for 20 relays_up 2 || fail "rs2 did not register"

# ---------------------------------------------------------------- one slow TCP transfer
CHUNKS=160 # 64 KiB each, one every 0.25 s: about 40 s
head -c $((CHUNKS * 65536)) /dev/urandom >"$D/blob"
SENT=$(sha256sum <"$D/blob" | cut -d' ' -f1)
tb_spawn b recv sh -c "socat -u TCP4-LISTEN:5001,reuseaddr - | sha256sum >'$D/recv.sum'"
PID_recv=$TB_PID
tb_wait_listen b tcp 5001 || fail "b: no listener"
tb_spawn a send sh -c "for i in \$(seq 0 $((CHUNKS - 1))); do
	dd if='$D/blob' bs=65536 skip=\$i count=1 status=none; sleep 0.25; done |
	socat -u - TCP4:$VIP_B:5001"
PID_send=$TB_PID
sleep 3
kill -0 "$PID_send" || fail "the transfer ended early: $(cat "$(tb_log send)")"

now_ms() {
	date +%s%3N
}

# ---------------------------------------------------------------- 1. rs1 dies
S1=$(ntm_peer_field a b relay_session)
T0=$(now_ms)
kill -KILL "$PID_rs1"
wait "$PID_rs1" 2>/dev/null || true
tb_wait_for 40 on_relay a b rs2 "$S1" || fail "a did not move to rs2: $(ntm_peer_field a b rs)"
tb_wait_for 40 on_relay b a rs2 "$S1" || fail "b did not move to rs2: $(ntm_peer_field b a rs)"
T1=$(now_ms)
tb_wait_for 30 tb_exec a ping -c 1 -W 1 "$VIP_B" || fail "no ping over rs2"
T2=$(now_ms)
S2=$(ntm_peer_field a b relay_session)
[ "$(ntm_peer_field b a relay_session)" = "$S2" ] || fail "a and b on different sessions"
[ "$(ntm_peer_field a b relay_failovers)" -ge 1 ] || fail "a counts no failover"
kill -0 "$PID_send" || fail "the transfer ended during the failover"
echo "# rs1 killed: both on rs2 (session $S2) after $((T1 - T0)) ms, ping after $((T2 - T0)) ms" \
	"(upper bounds: polled through ntmctl; tests/bench/paths.sh measures it)"

# ---------------------------------------------------------------- 2. rs2 restarts
kill -KILL "$PID_rs2"
wait "$PID_rs2" 2>/dev/null || true
T0=$(now_ms)
rs_start rs2 rs2b
tb_wait_for 40 on_relay a b rs2 "$S2" || fail "a did not rebind on the new rs2"
tb_wait_for 40 on_relay b a rs2 "$S2" || fail "b did not rebind on the new rs2"
T1=$(now_ms)
tb_wait_for 30 tb_exec a ping -c 1 -W 1 "$VIP_B" || fail "no ping over the restarted rs2"
T2=$(now_ms)
echo "# rs2 restarted: both on it again after $((T1 - T0)) ms, ping after $((T2 - T0)) ms"

wait "$PID_send" || fail "the sender failed: $(cat "$(tb_log send)")"
wait "$PID_recv" || fail "the receiver failed"
GOT=$(cut -d' ' -f1 "$D/recv.sum")
[ "$SENT" = "$GOT" ] || fail "sha256 differs: the TCP stream broke"
echo "# $((CHUNKS * 64)) KiB over one TCP connection across both failovers: sha256 ok"

# ---------------------------------------------------------------- 3. a flood at the relay
SESSION=$(ntm_peer_field a b relay_session)
RS2=$(tb_addr4 rs2):7100
FWD0=$(rs_counter rs2 forwarded)
tb_spawn m flood "$CLIENT" --dc "$RS2" relay-flood "$(printf %08x "$SESSION")" 15 20000
PID_flood=$TB_PID
sleep 1
tb_exec a ping -c 20 -i 0.5 -W 2 "$VIP_B" >"$D/ping.out" || true
kill -0 "$PID_flood" || fail "the flood ended before the pings: $(cat "$(tb_log flood)")"
wait "$PID_flood" || fail "flood: $(cat "$(tb_log flood)")"
RECV=$(awk '/received/ { print $4 }' "$D/ping.out")
echo "# during the flood: $(grep -E 'received|rtt' "$D/ping.out" | tr '\n' ' ')"
echo "# flood: $(cat "$(tb_log flood)" | tr '\n' ' ')"
[ "${RECV:-0}" -ge 18 ] || fail "only ${RECV:-0} of 20 pings answered during the flood"
[ "$(rs_counter rs2 forwarded)" -ge $((FWD0 + 36)) ] || fail "too little forwarded"
for c in drop_bad_mac drop_not_bound drop_no_session drop_malformed; do
	[ "$(rs_counter rs2 $c)" -ge 100 ] || fail "rs2 counted $c $(rs_counter rs2 $c)"
done
echo "# rs2 counters: $("$NTMCTL" -s "$D/rs2.sock" --json status | jq -c .counters)"
kill -0 "$PID_rs2" || fail "rs2 died"
echo "rs_failover.sh: PASS"
