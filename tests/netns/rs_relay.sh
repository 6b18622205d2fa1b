#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Relay servers (DESIGN "Flows" 4): ntm-dc and two dual-stack ntm-rs on
# public hosts, node a IPv4-only behind a symmetric NAT, node b public and
# IPv6-only, both played by tests/cli/ctrl_client (the node's path manager
# comes later). Checks: both relays register (only enrolled relay keys) and
# `ntmctl relays` shows them; a's RELAY_REQUEST makes the DC allocate a
# session on the less loaded relay and offer it to both; both bind with the
# credential and frames flow both ways between IPv4 and IPv6; a third party
# with the session id but no credential, or with a made-up session id, gets
# nothing back and nothing forwarded, and the relay counts each drop; the
# next allocation goes to the other (now less loaded) relay; idle sessions
# expire; a relay key that is not enrolled is refused.
#
# Needs: root, jq.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "rs_relay.sh: FAIL: $*" >&2
	exit 1
}

tb_init
command -v jq >/dev/null || { [ "${CI:-}" = true ] && fail "jq missing"; exit 77; }
DC=$(tb_bin dc/ntm-dc)
RS=$(tb_bin rs/ntm-rs)
NTMCTL=$(tb_bin ntmctl/ntmctl)
CLIENT=$(tb_bin tests/cli/ctrl_client)
D=$TB_DIR

tb_public_host dc
tb_public_host rs1
tb_public_host rs2
tb_public_host rs3
tb_public_host m
tb_router r1 symmetric
tb_nat_host a r1 --v4-only
tb_public_host b --v6-only
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)

umask 077
for k in dc rs1 rs2 rs3 a a2 b; do
	"$NTMCTL" genkey >"$D/$k.key"
done
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 25 >"$D/dc.conf"
SOCK=$D/dc.sock
ctl() {
	"$NTMCTL" -s "$SOCK" "$@"
}

# rs_config NAME: an ntm-rs.conf for the relay on host NAME.
rs_config() {
	cat <<EOF
[RS]
PrivateKeyFile = $D/$1.key
Listen = $(tb_addr4 "$1"):7100, [$(tb_addr6 "$1")]:7100
Sessions = 100
IdleTimeout = 4
[DC]
Endpoint = $DC4:7000, [$DC6]:7000
PublicKey = $DCPUB
EOF
}

rs_start() {
	rs_config "$1" >"$D/$1.conf"
	tb_spawn "$1" "$1" "$RS" -f -v -c "$D/$1.conf" -s "$D/$1.sock"
	eval "PID_$1=\$TB_PID"
	tb_wait_for 10 "$NTMCTL" -s "$D/$1.sock" status || fail "$1 did not start"
}

rs_status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r "$2"
}

relays_registered() {
	[ "$(ctl --json relays | jq length)" = "$1" ]
}

# node HOST NAME KEY DCADDR args...: a client in the background (PID_NAME, log NAME).
node() {
	local host=$1 name=$2 key=$3 dcaddr=$4
	shift 4
	tb_spawn "$host" "$name" "$CLIENT" --key "$D/$key.key" --dc-key "$DCPUB" --dc "$dcaddr" \
		"$@"
	eval "PID_$name=\$TB_PID"
}

field() {
	awk -v k="$2" '$1 == k { print $2 }' "$(tb_log "$1")"
}

# pair RUN [KEY NAME]: b waits for an offer, a (or the node KEY named NAME) asks for a
# relay to b; both exchange 10 frames.
pair() {
	node b "b$1" b "[$DC6]:7000" relay b.example.net --frames 10
	tb_wait_for 10 grep -q keepalive "$(tb_log "b$1")" || fail "b$1 did not register"
	node a "a$1" "${2:-a}" "$DC4:7000" relay "${3:-a.example.net}" --to b.example.net \
		--frames 10
	tb_wait_for 15 grep -q '^session' "$(tb_log "a$1")" ||
		fail "a$1 got no relay: $(cat "$(tb_log "a$1")")"
}

pair_done() {
	local pa pb
	eval "pa=\$PID_a$1 pb=\$PID_b$1"
	wait "$pa" || fail "a$1: $(cat "$(tb_log "a$1")")"
	wait "$pb" || fail "b$1: $(cat "$(tb_log "b$1")")"
	[ "$(field "a$1" received)" -ge 10 ] || fail "a$1 received $(field "a$1" received)"
	[ "$(field "b$1" received)" -ge 10 ] || fail "b$1 received $(field "b$1" received)"
	[ "$(field "a$1" session)" = "$(field "b$1" session)" ] || fail "$1: different sessions"
	# Sides by key order (the smaller key is A), not by who asked: the pair's
	# session offered again to the other end's request keeps both bindings.
	local want=B
	[[ "$(keyhex "${2:-a}")" > "$(keyhex b)" ]] || want=A
	[ "$(field "a$1" side)" = $want ] && [ "$(field "b$1" side)" != $want ] ||
		fail "$1: sides $(field "a$1" side)/$(field "b$1" side), want $want for the requester"
}

# keyhex NAME: the public key of NAME as hex (string order is memcmp order).
keyhex() {
	"$NTMCTL" pubkey <"$D/$1.key" | base64 -d | od -An -tx1 | tr -d ' \n'
}

# Which relay host has address ADDR:PORT (v4).
relay_host() {
	local h
	for h in rs1 rs2; do
		[ "$1" = "$(tb_addr4 $h):7100" ] && echo $h && return 0
	done
	fail "relay address $1 is no relay's"
}

ntm_dc_start 1 "$DC" "$D/dc.conf" "$SOCK" || fail "ntm-dc did not start"
ctl enroll a.example.net "$("$NTMCTL" pubkey <"$D/a.key")" >/dev/null
ctl enroll a2.example.net "$("$NTMCTL" pubkey <"$D/a2.key")" >/dev/null
ctl enroll b.example.net "$("$NTMCTL" pubkey <"$D/b.key")" >/dev/null
ctl enroll --relay rs1 "$("$NTMCTL" pubkey <"$D/rs1.key")" >/dev/null
ctl enroll --relay rs2 "$("$NTMCTL" pubkey <"$D/rs2.key")" >/dev/null

# ---------------------------------------------------------------- registration
rs_start rs1
rs_start rs2
rs_start rs3 # not enrolled
tb_wait_for 10 relays_registered 2 || fail "the relays did not register: $(ctl relays)"
tb_wait_for 10 grep -q "not enrolled" "$(tb_log rs3)" || fail "rs3 was not refused"
[ "$(rs_status rs3 .dc.state)" != registered ] || fail "rs3 registered"
[ "$(rs_status rs1 .dc.state)" = registered ] || fail "rs1: $(rs_status rs1 .dc)"
relays_registered 2 || fail "rs3 is listed: $(ctl relays)"
[ "$(ctl --json relays | jq -r '.[0].addresses | length')" = 2 ] || fail "relays: addresses"

# ---------------------------------------------------------------- a relayed session, v4 <-> v6
pair 1
RELAY1=$(field a1 relay)
SESSION1=$(field a1 session)
H1=$(relay_host "$RELAY1")
case "$(field b1 relay)" in
"[$(tb_addr6 "$H1")]:7100") ;;
*) fail "b1 got relay $(field b1 relay), a1 $RELAY1" ;;
esac
# a third party that knows the session id, while the session carries traffic
tb_exec m "$CLIENT" --dc "$RELAY1" relay-attack "$SESSION1" >"$D/m.out" ||
	fail "the relay answered a third party: $(cat "$D/m.out")"
pair_done 1
[ "$(rs_status "$H1" .counters.drop_bad_mac)" -ge 2 ] || fail "bad BINDs not counted"
[ "$(rs_status "$H1" .counters.drop_not_bound)" -ge 5 ] || fail "spoofed frames not counted"
[ "$(rs_status "$H1" .counters.drop_no_session)" -ge 5 ] || fail "unknown sessions not counted"
[ "$(rs_status "$H1" .counters.forwarded)" -ge 20 ] || fail "too little forwarded"
[ "$(rs_status "$H1" .counters.bind_ok)" -ge 2 ] || fail "BINDs not counted"
echo "session $SESSION1 on $H1: a received $(field a1 received), b received" \
	"$(field b1 received); $H1 counters: $("$NTMCTL" -s "$D/$H1.sock" --json status | jq -c .counters)"

# ---------------------------------------------------------------- the other relay is less loaded now
# (another pair: a pair's second request would get its session again, dc/relays.h)
pair 2 a2 a2.example.net
H2=$(relay_host "$(field a2 relay)")
[ "$H2" != "$H1" ] || fail "both sessions on $H1: $(ctl relays)"
pair_done 2 a2
[ "$(ctl --json relays | jq '[.[].allocated] | add')" = 2 ] || fail "relays: $(ctl relays)"
echo "second session on $H2; relays: $(ctl --json relays | jq -c '[.[] | {relay, sessions, allocated}]')"

# ---------------------------------------------------------------- idle expiry
sessions_gone() {
	[ "$(rs_status "$1" .sessions)" = 0 ] && [ "$(rs_status "$1" .counters.expired)" -ge 1 ]
}
tb_wait_for 10 sessions_gone rs1 || fail "rs1 sessions did not expire: $(rs_status rs1 .)"
tb_wait_for 10 sessions_gone rs2 || fail "rs2 sessions did not expire: $(rs_status rs2 .)"

for p in "$PID_rs1" "$PID_rs2" "$PID_rs3"; do
	kill -0 "$p" || fail "a relay died"
	tb_kill "$p"
done
grep -q "stopped" "$(tb_log rs1)" || fail "rs1 did not stop cleanly"
tb_kill "$DC_PID"
echo "rs_relay.sh: PASS"
