#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Relay through either domain's RS (issue 7, dc/fedrelay.h). Two federated
# DCs (a.example, b.example; [Federation] with Endpoint and a pinned key,
# so no DNS is involved). a.example has a relay (rsa); b.example has none
# at first.
#   (a) n1.a.example and z.b.example, both behind symmetric NATs: the path
#       rules say relay, b.example (the target's domain) has no relay, so
#       DC-b says so (FED_NO_RELAY) and DC-a allocates on rsa and hands
#       DC-b its side (FED_RELAY). Both ends show the relay on rsa; a TCP
#       transfer checks its sha256.
#   (c) n2.a.example and w.b.example, both behind cone NATs: the DC
#       predicts punched, but an nftables rule in n2's NAT router drops all
#       UDP between the two NATs, so the punch never works. The relay run
#       in parallel comes from a.example (again DC-b has none): both ends
#       fall back to it after the direct attempt; a transfer checks it.
#   (b) rsb starts in b.example; rsa is killed (SIGKILL) under a running
#       TCP transfer of n1 -> z. The node that asks (the smaller key) sends
#       RELAY_REQUEST naming rsa; its DC forwards it to the peer's DC
#       (FED_RELAY_REQUEST), and the pair ends on rsb, whichever of the two
#       asked (DC-a has only the dead rsa: it delegates to DC-b with
#       FED_RELAY_NEED). The transfer completes with the same sha256.
#   (d) n3.a.example and v.b.example behind cone NATs, punched: the relay
#       in parallel comes from a.example; once both went direct and left it,
#       v's RELAY_DONE reaches DC-a through DC-b (FED_RELAY_DONE) and DC-a
#       releases the session.
# Prints the time from the failure to restored traffic for (b) and (c).
#
# Needs: root, jq, socat, sha256sum, nft.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "fed_relay.sh: FAIL: $*" >&2
	for l in dca dcb rsa rsb node_n1 node_z node_n2 node_w node_n3 node_v; do
		[ -f "$(tb_log $l)" ] && { echo "--- $l" >&2; tail -20 "$(tb_log $l)" >&2; }
	done
	exit 1
}

tb_init
ntm_need jq socat sha256sum nft
DCBIN=$(tb_bin dc/ntm-dc)
RSBIN=$(tb_bin rs/ntm-rs)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

for h in dca dcb rsa rsb; do
	tb_public_host $h
done
tb_router ra symmetric
tb_nat_host n1 ra
tb_router rz symmetric
tb_nat_host z rz
tb_router rc cone
tb_nat_host n2 rc
tb_router rw cone
tb_nat_host w rw
tb_router rd cone
tb_nat_host n3 rd
tb_router rv cone
tb_nat_host v rv

umask 077
ntm_keys "$D" dca dcb rsa rsb n1 z n2 w n3 v
for k in dca dcb rsa rsb n1 z n2 w n3 v; do
	printf -v "PUB_$k" %s "$(cat "$D/$k.pub")"
done
mkdir -p "$D/state"

# dc_conf NAME DOMAIN POOL4 OTHERNAME OTHERDOMAIN
dc_conf() {
	local a4
	a4=$(tb_addr4 "$1")
	cat <<EOF
[DC]
Domain = $2
PrivateKeyFile = $D/$1.key
Listen = $a4:7000
AltListen = $a4:7001
Pool4 = $3
Database = $D/state/$1.db
KeepaliveInterval = 5
[Federation]
Domain = $5
Endpoint = $(tb_addr4 "$4"):7000
PublicKey = $(cat "$D/$4.pub")
Allow = * -> *
EOF
}
dc_conf dca a.example 100.80.0.0/16 dcb b.example >"$D/dca.conf"
dc_conf dcb b.example 100.81.0.0/16 dca a.example >"$D/dcb.conf"
for z in dca dcb; do
	tb_spawn $z $z "$DCBIN" -f -v -c "$D/$z.conf" -s "$D/$z.sock"
done
for z in dca dcb; do
	tb_wait_for 20 "$NTMCTL" -s "$D/$z.sock" nodes >/dev/null || fail "$z did not start"
done

# rs_start NAME DC [LOG]: enrols and starts relay NAME under DC; sets PID_NAME.
rs_start() {
	"$NTMCTL" -s "$D/$2.sock" enroll --relay "$1" "$(cat "$D/$1.pub")" >/dev/null 2>&1 || true
	ntm_rs_conf "$D/$1.key" "$(tb_addr4 "$1"):7100" "$(tb_addr4 "$2"):7000" \
		"$(cat "$D/$2.pub")" >"$D/$1.conf"
	tb_spawn "$1" "${3:-$1}" "$RSBIN" -f -v -c "$D/$1.conf" -s "$D/$1.sock"
	printf -v "PID_$1" %s "$TB_PID"
}
relays_are() { # DC N
	[ "$("$NTMCTL" -s "$D/$1.sock" --json relays | jq length)" = "$2" ]
}
rs_start rsa dca
tb_wait_for 20 relays_are dca 1 || fail "rsa did not register"

# node_start NAME DOMAIN DC
node_start() {
	"$NTMCTL" -s "$D/$3.sock" enroll "$1.$2" "$(cat "$D/$1.pub")" >/dev/null
	printf '[Interface]\nPrivateKeyFile = %s\nName = %s\n\n[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' \
		"$D/$1.key" "$1.$2" "$(tb_addr4 "$3")" "$(cat "$D/$3.pub")" >"$D/$1.conf"
	tb_spawn "$1" "node_$1" "$(tb_bin endnode/ntm-node)" -f -v -c "$D/$1.conf" -i ntm0 \
		-s "$D/$1.sock"
}
node_start n1 a.example dca
node_start z b.example dcb
node_start n2 a.example dca
node_start w b.example dcb
node_start n3 a.example dca
node_start v b.example dcb
status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".dc.$2"
}
is_registered() { # NODE NAT
	[ "$(status "$1" state)" = registered ] && [ "$(status "$1" nat)" = "$2" ]
}
for n in n1 z; do
	tb_wait_for 30 is_registered $n edm || fail "$n did not register as edm: $(status $n nat)"
done
for n in n2 w n3 v; do
	tb_wait_for 30 is_registered $n eim || fail "$n did not register as eim: $(status $n nat)"
done
VIP_z=$(status z vip4)
VIP_w=$(status w vip4)

# on_relay NODE PEER RS [NOT_SESSION]: the relay path on RS, bound, another session.
on_relay() {
	[ "$(ntm_peer_field "$1" "$2" path)" = relay ] &&
		[ "$(ntm_peer_field "$1" "$2" rs)" = "$(tb_addr4 "$3"):7100" ] &&
		[ "$(ntm_peer_field "$1" "$2" relay_bound)" = true ] &&
		[ "$(ntm_peer_field "$1" "$2" relay_session)" != "${4:-x}" ]
}
now_ms() {
	date +%s%3N
}

echo "# (a) symmetric <-> symmetric, no relay in the target's domain: a.example's rsa"
line=$("$NTMCTL" -s "$D/n1.sock" resolve z.b.example) || fail "resolve z.b.example: $?"
echo "# resolve: $line"
tb_wait_for 20 on_relay n1 z rsa || fail "n1 is not on rsa: $("$NTMCTL" -s "$D/n1.sock" --json peers)"
tb_wait_for 20 on_relay z n1 rsa || fail "z is not on rsa: $("$NTMCTL" -s "$D/z.sock" --json peers)"
[ "$(ntm_peer_field n1 z relay_session)" = "$(ntm_peer_field z n1 relay_session)" ] ||
	fail "n1 and z on different sessions"
[ "$(ntm_peer_field n1 z dc_path)" = relay ] || fail "n1: the DC chose $(ntm_peer_field n1 z dc_path)"
grep -q "federation: n1.a.example -> z.b.example: no usable relay here, the caller's relays" \
	"$(tb_log dcb)" || fail "DC-b did not say it has no relay"
grep -q "offered to n1.a.example and (through its DC) z.b.example" "$(tb_log dca)" ||
	fail "DC-a did not allocate on its relay"
grep -q "relay of a.example: session [0-9a-f]* offered to z.b.example (peer n1.a.example) on side B" \
	"$(tb_log dcb)" || fail "DC-b did not pass DC-a's relay on"
ntm_transfer n1 z "$VIP_z" 2M
echo "# (a) 2 MiB n1 -> z through rsa: sha256 ok"

echo "# (d) cone <-> cone, punched, a.example's relay in parallel: released when both left it"
line=$("$NTMCTL" -s "$D/n3.sock" resolve v.b.example) || fail "resolve v.b.example: $?"
echo "# resolve: $line"
tb_wait_for 20 tb_exec n3 ping -c 1 -W 1 "$(status v vip4)" >/dev/null || fail "no ping n3 -> v"
has_session() {
	[ -n "$(ntm_peer_field "$1" "$2" relay_session)" ]
}
tb_wait_for 20 has_session n3 v || fail "n3 got no relay in parallel"
S_d=$(printf %08x "$(ntm_peer_field n3 v relay_session)")
grep -q "relay rsa: session $S_d offered to n3.a.example and (through its DC) v.b.example" \
	"$(tb_log dca)" || fail "DC-a did not allocate the parallel relay"

echo "# (c) cone <-> cone, predicted punched, UDP between the NATs dropped"
RC4=$(tb_addr4 rc)
RW4=$(tb_addr4 rw)
tb_exec rc nft add table inet frl_block
tb_exec rc nft add chain inet frl_block out "{ type filter hook postrouting priority 200; }"
tb_exec rc nft add chain inet frl_block in "{ type filter hook prerouting priority -200; }"
tb_exec rc nft add rule inet frl_block out ip daddr "$RW4" ip protocol udp drop
tb_exec rc nft add rule inet frl_block in ip saddr "$RW4" ip protocol udp drop
T0=$(now_ms)
"$NTMCTL" -s "$D/n2.sock" resolve w.b.example >/dev/null 2>&1 || true
tb_wait_for 30 on_relay n2 w rsa || fail "n2 did not fall back to rsa: $("$NTMCTL" -s "$D/n2.sock" --json peers)"
tb_wait_for 30 tb_exec n2 ping -c 1 -W 1 "$VIP_w" >/dev/null || fail "no ping n2 -> w over rsa"
T1=$(now_ms)
[ "$(ntm_peer_field n2 w dc_path)" = punched ] || fail "n2: the DC chose $(ntm_peer_field n2 w dc_path)"
tb_wait_for 20 on_relay w n2 rsa || fail "w is not on rsa"
[ -n "$(ntm_peer_field n2 w last_direct_failure)" ] || fail "n2 records no direct failure"
[ "$(tb_exec rc nft list table inet frl_block | grep -c drop)" = 2 ] || fail "nft rules gone"
ntm_transfer n2 w "$VIP_w" 1M
echo "# (c) punch blocked ($RC4 <-> $RW4): relayed through a.example's rsa," \
	"traffic after $((T1 - T0)) ms from the resolve; 1 MiB: sha256 ok"
echo "TIMING c_fallback_ms $((T1 - T0))"

echo "# (d) both ends went direct and left the relay: v's RELAY_DONE forwarded, released"
[ "$(ntm_peer_field n3 v path)" = punched ] || fail "n3 -> v path $(ntm_peer_field n3 v path)"
released() {
	grep -q "relay session $S_d: both ends went direct, released" "$(tb_log dca)"
}
tb_wait_for 40 released || fail "DC-a did not release session $S_d"
grep -q "relay session $S_d ([a-z0-9.]*): left for the direct path" "$(tb_log node_v)" ||
	fail "v did not leave the relay"
echo "# (d) session $S_d released on rsa after both ends left it"

echo "# (b) rsb joins b.example; rsa is killed under a transfer n1 -> z"
rs_start rsb dcb
tb_wait_for 20 relays_are dcb 1 || fail "rsb did not register"
CHUNKS=100 # 32 KiB each, one every 0.2 s: about 20 s
head -c $((CHUNKS * 32768)) /dev/urandom >"$D/blob_b"
SENT=$(sha256sum <"$D/blob_b" | cut -d' ' -f1)
tb_spawn z recv_b sh -c "socat -u TCP4-LISTEN:5002,reuseaddr - | sha256sum >'$D/recv_b.sum'"
PID_recv=$TB_PID
tb_wait_listen z tcp 5002 || fail "z: no listener"
tb_spawn n1 send_b sh -c "for i in \$(seq 0 $((CHUNKS - 1))); do
	dd if='$D/blob_b' bs=32768 skip=\$i count=1 status=none; sleep 0.2; done |
	socat -u - TCP4:$VIP_z:5002"
PID_send=$TB_PID
sleep 2
kill -0 "$PID_send" || fail "the transfer ended early: $(cat "$(tb_log send_b)")"
S1=$(ntm_peer_field n1 z relay_session)
T0=$(now_ms)
# shellcheck disable=SC2154 # PID_rsa: set by rs_start (printf -v)
kill -KILL "$PID_rsa"
echo "# rsa killed at $(date +%T.%3N)"
wait "$PID_rsa" 2>/dev/null || true
tb_wait_for 60 on_relay n1 z rsb "$S1" || fail "n1 did not move to rsb: $(ntm_peer_field n1 z rs)"
tb_wait_for 60 on_relay z n1 rsb "$S1" || fail "z did not move to rsb: $(ntm_peer_field z n1 rs)"
tb_wait_for 30 tb_exec n1 ping -c 1 -W 1 "$VIP_z" >/dev/null || fail "no ping over rsb"
T1=$(now_ms)
[ "$(ntm_peer_field n1 z relay_session)" = "$(ntm_peer_field z n1 relay_session)" ] ||
	fail "n1 and z on different sessions after the failover"
[ "$(ntm_peer_field n1 z relay_failovers)" -ge 1 ] || fail "n1 counts no failover"
grep -q "relay request of [a-z0-9.]* for [a-z0-9.]*: forwarded to the DC of" \
	"$(tb_log dca)" "$(tb_log dcb)" || fail "no RELAY_REQUEST was forwarded"
kill -0 "$PID_send" || fail "the transfer ended during the failover"
wait "$PID_send" || fail "the sender failed: $(cat "$(tb_log send_b)")"
wait "$PID_recv" || fail "the receiver failed"
[ "$SENT" = "$(cut -d' ' -f1 "$D/recv_b.sum")" ] || fail "sha256 differs after the failover"
echo "# (b) rsa killed: both on b.example's rsb after the forwarded RELAY_REQUEST," \
	"ping after $((T1 - T0)) ms; $((CHUNKS * 32)) KiB across it: sha256 ok"
echo "TIMING b_failover_ms $((T1 - T0))"
for z in dca dcb; do # how it went: who forwarded, who delegated, who allocated
	grep -h "relay request of\|no usable relay\|FED_RELAY_NEED\|offered to" "$(tb_log $z)" |
		sed "s/^/# $z: /" | tail -5
done
echo "fed_relay.sh: PASS"
