#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Mobility (DESIGN "Flows" 5): a TCP transfer over the VIPs survives a node
# moving to another network mid-transfer, with a sha256 of the stream
# compared at the end. One DC and one relay on the public core; per case a
# fresh pair of nodes:
#
#   public   a moves from behind a cone NAT to behind a symmetric NAT; its
#            peer b is public (WireGuard roaming moves b at once)
#   cone     a moves from behind one cone NAT to behind another; b is behind
#            a third (b's NAT filters a's new address: the DC re-directs
#            both ends, a relay bridging)
#   both     a (cone NAT -> public) and b (public -> cone NAT) move at once
#   rebind   `conntrack -F` on a's NAT router mid-transfer (NAT rebinding)
#   rebind_edm the same on a symmetric NAT, relayed to b behind a cone NAT:
#            the new port shows in the DC's keep-alive answer and a re-binds
#            its relay session
#   flap     60 address events in a burst, then a move: damped, and the
#            final state wins
#   forged   a packet captured between a and b, replayed by a third host
#            from its own address, and a handshake initiation under a wrong
#            key, never move b's endpoint for a; the tunnel keeps working
#
# Each move deletes the node's uplink (its address and default route) and
# then adds one on another segment. The liveness timeouts are generous
# (sanitizer builds on a loaded machine); the gap in packet flow is measured
# by tests/bench/handover.sh, not here. MOB_CASES="public cone" runs a subset.
#
# Needs: root, jq, socat, conntrack.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "mobility.sh: FAIL: $*" >&2
	tb_log_tail 30 >&2 || true
	exit 1
}

tb_init
ntm_need jq socat sha256sum conntrack
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
GRAB=$(tb_bin tests/netns/pktgrab)
D=$TB_DIR
CASES=${MOB_CASES:-public cone both rebind rebind_edm flap forged}

tb_public_host dc
tb_public_host relay
tb_router rc1 cone
tb_router rc2 cone
tb_router rc3 cone
tb_router rsy symmetric
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
ntm_keys "$D" dc relay
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5 >"$D/dc.conf"
dcctl() {
	"$NTMCTL" -s "$D/dc.sock" "$@"
}
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
ntm_rs_start relay "$(tb_addr4 relay):7100" "$DC4:7000" "$DCPUB" -f -v || fail "ntm-rs did not start"
tb_wait_for 10 ntm_relays_are 1 || fail "the relay did not register"

# ---------------------------------------------------------------- helpers

status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r "$2"
}

registered() {
	[ "$(status "$1" .dc.state)" = registered ] && [ "$(status "$1" .dc.nat)" != null ]
}

# node NAME: enrolls and starts ntm-node in namespace NAME (already attached).
node() {
	ntm_keys "$D" "$1" || fail "$1: no key"
	ntm_node_start "$D" "$1" "$DC4:7000" "$DCPUB" || fail "$1 did not start"
	tb_wait_for 20 registered "$1" || fail "$1 did not register"
}

# peer_field NODE PEER JQ: PEER's entry in NODE's `ntmctl peers`.
peer_field() {
	local key
	key=$("$NTMCTL" pubkey <"$D/$2.key")
	"$NTMCTL" -s "$D/$1.sock" --json peers |
		jq -r --arg k "$key" ".[] | select(.public_key == \$k) | $3"
}

# The current uplink of each moving node (lib.sh names them eth0, eth1...).
declare -A IFN
# move NODE public|ROUTER: drops NODE's uplink (address, default route), then
# attaches it to the core or to ROUTER's LAN.
move() {
	local n=$1 old=eth${IFN[$1]}
	tb_detach "$n" "$old"
	if [ "$2" = public ]; then
		tb_attach_public "$n"
	else
		tb_attach_lan "$n" "$2"
	fi
	IFN[$n]=$((IFN[$n] + 1))
}

# pair CASE A-ATTACH B-ATTACH: nodes a$CASE and b$CASE, each public or
# behind a router; a resolves b and pings it.
pair() {
	local c=$1 x where
	for x in "a$c $2" "b$c $3"; do
		set -- $x
		tb_node "$1"
		if [ "$2" = public ]; then
			tb_attach_public "$1"
		else
			tb_attach_lan "$1" "$2"
		fi
		IFN[$1]=0
		node "$1"
	done
	A=a$c B=b$c
	VA=$(status "$A" .dc.vip4)
	VB=$(status "$B" .dc.vip4)
	"$NTMCTL" -s "$D/$A.sock" resolve "$B.example.net" >/dev/null || fail "$A: resolve $B"
	tb_exec "$A" ping -c 2 -i 0.2 -W 5 "$VB" >/dev/null || fail "$A: ping $B"
	where=$(peer_field "$A" "$B" .path)
	echo "# $c: $A -> $B path $where"
}

# transfer FROM TO-VIP TO ACTION...: 16 MiB from FROM to TO over the VIP,
# paced over about 4 s; ACTION runs after 1 s. The sha256 must match.
transfer() {
	local from=$1 vip=$2 to=$3 sent got recv snd
	shift 3
	head -c 16M /dev/urandom >"$D/blob"
	sent=$(sha256sum <"$D/blob" | cut -d' ' -f1)
	rm -f "$D/recv.sum"
	tb_spawn "$to" "recv_$to" sh -c "socat -u TCP4-LISTEN:5001,reuseaddr - | sha256sum >'$D/recv.sum.tmp' && mv '$D/recv.sum.tmp' '$D/recv.sum'"
	recv=$TB_PID
	tb_wait_listen "$to" tcp 5001 || fail "$to: no listener"
	tb_spawn "$from" "send_$from" sh -c "for i in \$(seq 0 63); do dd if='$D/blob' bs=256k skip=\$i count=1 status=none; sleep 0.06; done | timeout 180 socat -u - TCP4:$vip:5001"
	snd=$TB_PID
	sleep 1
	"$@"
	wait "$snd" || fail "$from -> $to: the sender failed (exit $?)"
	tb_wait_for 60 test -s "$D/recv.sum" || fail "$to: the transfer did not end"
	wait "$recv" || true
	got=$(cut -d' ' -f1 "$D/recv.sum")
	[ "$sent" = "$got" ] || fail "$from -> $to: sha256 differs"
	echo "# $from -> $to: 16 MiB, sha256 matches"
}

# alive A B: ping over the VIPs both ways, within a generous time.
alive() {
	tb_wait_for 30 tb_exec "$1" ping -c 1 -W 1 "$(status "$2" .dc.vip4)" ||
		fail "$1 cannot reach $2 after the move"
	tb_wait_for 30 tb_exec "$2" ping -c 1 -W 1 "$(status "$1" .dc.vip4)" ||
		fail "$2 cannot reach $1 after the move"
}

moves() {
	status "$1" .mobility.moves
}

# ---------------------------------------------------------------- cases

case_public() {
	pair p rc1 public
	transfer "$A" "$VB" "$B" move "$A" rsy
	alive "$A" "$B"
	[ "$(moves "$A")" -ge 1 ] || fail "$A: no move recorded"
	[ "$(peer_field "$B" "$A" .endpoint | cut -d: -f1)" = "$(tb_addr4 rsy)" ] ||
		fail "$B: endpoint of $A is $(peer_field "$B" "$A" .endpoint), want behind rsy"
}

case_cone() {
	pair c rc1 rc3
	transfer "$A" "$VB" "$B" move "$A" rc2
	alive "$A" "$B"
	grep -q "re-direction: the requester moved" "$(tb_log dc1)" ||
		fail "the DC was not asked to re-direct"
}

case_both() {
	pair b rc1 public
	both() {
		move "$A" public
		move "$B" rc2
	}
	transfer "$B" "$VA" "$A" both
	alive "$A" "$B"
}

case_rebind() {
	pair r rc1 public
	transfer "$A" "$VB" "$B" tb_exec rc1 conntrack -F
	alive "$A" "$B"
}

# rebind_edm: conntrack -F on a symmetric NAT gives a new random port; the
# relay drops frames from it until a binds again, which a does as soon as the
# DC's keep-alive answer shows the new outside address.
case_rebind_edm() {
	pair e rsy rc3
	[ "$(peer_field "$A" "$B" .path)" = relay ] || fail "$A: path to $B is not the relay"
	transfer "$A" "$VB" "$B" tb_exec rsy conntrack -F
	alive "$A" "$B"
	grep -q "NAT rebinding" "$(tb_log "node_$A")" || fail "$A did not notice the NAT rebinding"
}

# flap: 60 address events within a fraction of a second, then a real move:
# damped to a few moves, and the last state (behind rc2) is the one in use.
case_flap() {
	local m0 m1 src t0 t1 max
	pair l rc1 public
	m0=$(moves "$A")
	t0=$(date +%s%N)
	tb_exec "$A" sh -c "for i in \$(seq 30); do ip addr add 10.1.0.200/24 dev eth${IFN[$A]}; ip addr del 10.1.0.200/24 dev eth${IFN[$A]}; done"
	t1=$(date +%s%N)
	# At most one move per 250 ms of burst and two free ones, then the real
	# move's (IPv4 up, IPv6 up) and one for a slow machine.
	max=$(((t1 - t0) / 250000000 + 6))
	move "$A" rc2
	alive "$A" "$B"
	m1=$(moves "$A")
	src=$(status "$A" .mobility.source)
	echo "# flap: $((m1 - m0)) moves (at most $max) for 60 events in $(((t1 - t0) / 1000000)) ms and one move; source now $src"
	[ $((m1 - m0)) -ge 1 ] && [ $((m1 - m0)) -le "$max" ] || fail "$A: $((m1 - m0)) moves"
	[ "${src%:*}" = "$(tb_addr4 "$A")" ] || fail "$A: source $src, want $(tb_addr4 "$A")"
	[ "$(peer_field "$B" "$A" .endpoint | cut -d: -f1)" = "$(tb_addr4 rc2)" ] ||
		fail "$B: endpoint of $A is $(peer_field "$B" "$A" .endpoint), want behind rc2"
}

# forged: b's endpoint for a stays a's real address whatever a third host
# sends; the replayed packets reach b (its drop counters rise).
case_forged() {
	local ep before after pk
	pair f rc1 public
	tb_public_host evil
	ep=$(peer_field "$B" "$A" .endpoint)
	pk=$(status "$B" .listen_port)
	# Capture datagrams a sends to b (on a's uplink) while it pings b.
	tb_spawn "$A" grab "$GRAB" "eth${IFN[$A]}" "$pk" 8 "$D/pkt"
	tb_wait_for 5 test -e "$D/pkt.ready" || fail "pktgrab did not start"
	tb_exec "$A" ping -c 10 -i 0.1 -W 2 "$VB" >/dev/null || fail "$A: ping $B"
	tb_wait_for 10 test -e "$D/pkt.7" || fail "captured too little"
	before=$(status "$B" '.drops.replay + .drops.handshake_replay + .drops.bad_mac1 + .drops.bad_handshake + .drops.unknown_index')
	head -c 148 /dev/urandom | { printf '\001\000\000\000'; tail -c 144; } >"$D/pkt.forged"
	for f in "$D"/pkt.[0-7] "$D/pkt.forged"; do
		tb_exec evil socat -u "OPEN:$f,rdonly" "UDP4-SENDTO:$(tb_addr4 "$B"):$pk,sourceport=40000"
	done
	sleep 1
	after=$(status "$B" '.drops.replay + .drops.handshake_replay + .drops.bad_mac1 + .drops.bad_handshake + .drops.unknown_index')
	echo "# forged: b's drops (replay, handshake, mac1) $before -> $after"
	[ "$after" -ge $((before + 9)) ] || fail "the forged packets did not all reach $B and get dropped"
	[ "$(peer_field "$B" "$A" .endpoint)" = "$ep" ] ||
		fail "$B: endpoint of $A moved to $(peer_field "$B" "$A" .endpoint)"
	tb_exec "$A" ping -c 3 -i 0.2 -W 5 "$VB" >/dev/null || fail "$A: tunnel broken after forgery"
}

for c in $CASES; do
	echo "# case $c"
	"case_$c"
	echo "ok - $c"
done
echo "mobility.sh: PASS"
