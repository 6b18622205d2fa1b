#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Registration over the control channel (DESIGN "Flows" 1): ntm-dc on a
# public host, a client behind a cone NAT and one on a public host, speaking
# through tests/cli/ctrl_client (the node side comes later). Checks: an
# enrolled key registers and gets the VIPs `ntmctl nodes` shows, with the
# NAT's WAN address as its outside address (and eim from Listen vs
# AltListen); a public client registers over IPv6 and is "public"; a fresh
# key enrols itself with a one-time token; an unknown key, a wrong name and
# a revoked key are refused; a replayed initiation gets no answer; garbage
# is dropped and counted while the DC keeps serving; the same VIPs come back
# after a DC restart.
#
# Needs: root, jq.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "dc_register.sh: FAIL: $*" >&2
	exit 1
}

tb_init
command -v jq >/dev/null || { [ "${CI:-}" = true ] && fail "jq missing"; exit 77; }
DC=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
CLIENT=$(tb_bin tests/cli/ctrl_client)
D=$TB_DIR

tb_public_host dc
tb_public_host p1
tb_router r1 cone
tb_nat_host h1 r1
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)
WAN4=$(tb_addr4 r1)
P6=$(tb_addr6 p1)

umask 077
for k in dc a b c x; do
	"$NTMCTL" genkey >"$D/$k.key"
done
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 25 >"$D/dc.conf"
SOCK=$D/dc.sock
ctl() {
	"$NTMCTL" -s "$SOCK" "$@"
}

start_dc() {
	ntm_dc_start "$1" "$DC" "$D/dc.conf" "$SOCK" ||
		fail "ntm-dc did not start: $(tail -5 "$(tb_log "dc$1")")"
	tb_wait_listen dc udp 7001 || fail "ntm-dc does not listen on AltListen"
}

# client HOST NAME KEY DCADDR [args...]: registers, output in $D/NAME.out.
client() {
	local host=$1 name=$2 key=$3 dcaddr=$4
	shift 4
	tb_exec "$host" "$CLIENT" --key "$D/$key.key" --dc-key "$DCPUB" --dc "$dcaddr" "$@" \
		>"$D/$name.out" 2>"$D/$name.err"
}

field() {
	awk -v k="$2" '$1 == k { print $2 }' "$D/$1.out"
}

node_json() {
	ctl --json nodes | jq -r --arg f "$1" ".[] | select(.fqdn == \$f) | .$2"
}

start_dc 1
ctl enroll a.example.net "$("$NTMCTL" pubkey <"$D/a.key")" >/dev/null
ctl enroll b.example.net "$("$NTMCTL" pubkey <"$D/b.key")" >/dev/null

# ---------------------------------------------------------------- behind the cone NAT
client h1 a1 a "$DC4:7000" --alt "$DC4:7001" --keepalives 1 --port 40123 \
	--save-init "$D/a.init" register a.example.net || fail "a: $(cat "$D/a1.err")"
[ "$(field a1 vip4)" = "$(node_json a.example.net vip4)" ] || fail "a: vip4 differs from nodes"
[ "$(field a1 vip6)" = "$(node_json a.example.net vip6)" ] || fail "a: vip6 differs from nodes"
case "$(field a1 outside)" in
"$WAN4":*) ;;
*) fail "a: outside $(field a1 outside), want the NAT's $WAN4" ;;
esac
[ "$(field a1 keepalive)" = 25 ] || fail "a: keepalive $(field a1 keepalive)"
[ "$(field a1 alt_outside)" = "$(field a1 outside)" ] || fail "a: the cone NAT mapped differently"
[ "$(node_json a.example.net outside)" = "$(field a1 outside)" ] || fail "nodes: outside of a"
[ "$(node_json a.example.net real)" = "$(tb_addr4 h1):40123" ] || fail "nodes: real of a"
[ "$(node_json a.example.net online)" = true ] || fail "nodes: a not online"
[ "$(node_json a.example.net nat)" = eim ] || fail "nodes: a's NAT is $(node_json a.example.net nat)"

# A replayed initiation gets no answer.
tb_exec h1 "$CLIENT" --dc "$DC4:7000" --port 40124 send "$D/a.init" ||
	fail "the DC answered a replayed initiation"

# ---------------------------------------------------------------- public, IPv6
client p1 b1 b "[$DC6]:7000" register b.example.net || fail "b: $(cat "$D/b1.err")"
case "$(field b1 outside)" in
"[$P6]":*) ;;
*) fail "b: outside $(field b1 outside), want [$P6]:port" ;;
esac
[ "$(node_json b.example.net nat)" = public ] || fail "nodes: b is not public"
[ "$(field b1 vip4)" = "$(node_json b.example.net vip4)" ] || fail "b: vip4 differs from nodes"

# ---------------------------------------------------------------- token enrolment
TOKEN=$(ctl --json token create c.example.net | jq -r .token)
client h1 c1 c "$DC4:7000" register c.example.net --token "$TOKEN" ||
	fail "c: token enrolment: $(cat "$D/c1.err")"
[ "$(node_json c.example.net vip4)" = "$(field c1 vip4)" ] || fail "c: not enrolled with its VIP"
client h1 c2 c "$DC4:7000" register c.example.net || fail "c: second registration"
[ "$(field c2 vip4)" = "$(field c1 vip4)" ] || fail "c: VIP changed"

# ---------------------------------------------------------------- refusals
if client p1 x1 x "$DC4:7000" register x.example.net --token "$TOKEN"; then
	fail "an unknown key with a used token registered"
fi
grep -q vip4 "$D/x1.out" && fail "an unknown key got a VIP"
grep -q BAD_TOKEN "$D/x1.err" || fail "x: $(cat "$D/x1.err")"
if client p1 x2 a "$DC4:7000" register b.example.net; then
	fail "a registered under b's name"
fi
grep -q NAME_MISMATCH "$D/x2.err" || fail "x2: $(cat "$D/x2.err")"

# ---------------------------------------------------------------- garbage
tb_exec p1 "$CLIENT" --dc "$DC4:7000" garbage 2000
tb_exec p1 "$CLIENT" --dc "[$DC6]:7000" garbage 500
client p1 b2 b "$DC4:7000" register b.example.net || fail "b after garbage: $(cat "$D/b2.err")"
[ "$(field b2 vip4)" = "$(field b1 vip4)" ] || fail "b: VIP changed"
kill -0 "$DC_PID" || fail "ntm-dc died"

# ---------------------------------------------------------------- restart
A4=$(field a1 vip4)
A6=$(field a1 vip6)
tb_kill "$DC_PID"
start_dc 2
client h1 a2 a "$DC4:7000" register a.example.net || fail "a after restart: $(cat "$D/a2.err")"
[ "$(field a2 vip4)" = "$A4" ] && [ "$(field a2 vip6)" = "$A6" ] ||
	fail "a: VIPs changed across the restart"

# ---------------------------------------------------------------- revoked
ctl revoke b.example.net >/dev/null
if client p1 b3 b "$DC4:7000" register b.example.net; then
	fail "a revoked key registered"
fi
grep -q NOT_ENROLLED "$D/b3.err" || fail "b3: $(cat "$D/b3.err")"
[ "$(node_json a.example.net online)" = true ] || fail "nodes: a not online after restart"

tb_kill "$DC_PID"
echo "dc_register.sh: PASS"
