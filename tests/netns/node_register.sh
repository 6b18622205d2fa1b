#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ntm-node registers at ntm-dc (DESIGN "Flows" 1 and 6). A DC on a public
# host (Listen v4+v6, AltListen), node a behind a cone NAT, node b public,
# both configured with only [Interface] PrivateKeyFile + Name and a [DC]
# section. Checks: a (enrolled by the admin) registers and its TUN carries
# the VIPs `ntmctl nodes` shows, online, with the NAT's WAN address as its
# outside address and the NAT class eim in its own status; b enrols itself with a one-time token; with the DC
# stopped, a's status says "unreachable" within a bounded time, and a
# re-registers by itself with the same VIPs once the DC is back; a restarted
# node gets the same VIPs; a node with an unenrolled key logs the enrol
# hint and keeps retrying without crashing.
#
# Needs: root, jq.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "node_register.sh: FAIL: $*" >&2
	exit 1
}

tb_init
command -v jq >/dev/null || { [ "${CI:-}" = true ] && fail "jq missing"; exit 77; }
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR
KA=5 # KeepaliveInterval (the DC's minimum): keeps the outage checks short

tb_public_host dc
tb_router r1 cone
tb_nat_host a r1
tb_public_host b
tb_public_host x
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)
WAN4=$(tb_addr4 r1)

umask 077
for k in dc a b x; do
	"$NTMCTL" genkey >"$D/$k.key"
done
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" "$KA" >"$D/dc.conf"
DCSOCK=$D/dc.sock
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}

start_dc() {
	ntm_dc_start "$1" "$DCBIN" "$D/dc.conf" "$DCSOCK" ||
		fail "ntm-dc did not start: $(tail -5 "$(tb_log "dc$1")")"
}

# node_conf NAME ENDPOINTS [TOKEN]: a [DC]-only configuration.
node_conf() {
	{
		printf '[Interface]\nPrivateKeyFile = %s\nName = %s.example.net\n\n' "$D/$1.key" "$1"
		printf '[DC]\nEndpoint = %s\nPublicKey = %s\n' "$2" "$DCPUB"
		[ -z "${3:-}" ] || printf 'Token = %s\n' "$3"
	} >"$D/$1.conf"
}

# start_node NAME RUN: ntm-node on host NAME; its pid in PID_<NAME>.
start_node() {
	tb_spawn "$1" "node_$1$2" "$NODE" -f -v -c "$D/$1.conf" -i ntm0 -s "$D/$1.sock"
	printf -v "PID_$1" %s "$TB_PID"
}

status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r ".dc.$2"
}

is_state() {
	[ "$(status "$1" state)" = "$2" ]
}

is_nat() {
	[ "$(status "$1" nat)" = "$2" ]
}

node_json() {
	dcctl --json nodes | jq -r --arg f "$1.example.net" ".[] | select(.fqdn == \$f) | .$2"
}

# has_vips NAME [VIP4 VIP6]: the TUN of NAME carries these VIPs (default: the DC's list).
has_vips() {
	local v4=${2:-} v6=${3:-} addrs
	[ -n "$v4" ] || v4=$(node_json "$1" vip4)
	[ -n "$v6" ] || v6=$(node_json "$1" vip6)
	addrs=$(tb_exec "$1" ip -o addr show dev ntm0)
	grep -qF " $v4/32 " <<<"$addrs" && grep -qF " $v6/128 " <<<"$addrs"
}

start_dc 1
dcctl enroll a.example.net "$("$NTMCTL" pubkey <"$D/a.key")" >/dev/null
TOKEN=$(dcctl --json token create b.example.net | jq -r .token)
node_conf a "$DC4:7000, [$DC6]:7000"
node_conf b "[$DC6]:7000, $DC4:7000" "$TOKEN"
node_conf x "$DC4:7000"

start_node a 1
start_node b 1
start_node x 1

# ---------------------------------------------------------------- a behind the cone NAT
tb_wait_for 10 is_state a registered || fail "a did not register: $(status a state)"
A4=$(node_json a vip4)
A6=$(node_json a vip6)
[ -n "$A4" ] && [ "$A4" != null ] || fail "a is not in the DC's node list"
[ "$(status a vip4)" = "$A4" ] && [ "$(status a vip6)" = "$A6" ] ||
	fail "a: status VIPs $(status a vip4) $(status a vip6), the DC says $A4 $A6"
has_vips a || fail "a: the TUN lacks the VIPs: $(tb_exec a ip -o addr show dev ntm0)"
[ "$(node_json a online)" = true ] || fail "nodes: a is not online"
case "$(node_json a outside)" in
"$WAN4":*) ;;
*) fail "nodes: a's outside is $(node_json a outside), want the NAT's $WAN4" ;;
esac
[ "$(status a outside)" = "$(node_json a outside)" ] ||
	fail "a: status outside $(status a outside) differs from the DC's"
[ "$(status a endpoint)" = "$DC4:7000" ] || fail "a: endpoint $(status a endpoint)"
# The DC classifies a's cone NAT from its probe of AltListen and tells a.
tb_wait_for 10 is_nat a eim || fail "a: nat '$(status a nat)', want eim"
[ "$(node_json a nat)" = eim ] || fail "nodes: a's NAT is $(node_json a nat)"
[ "$(status a ipv4)" = true ] && [ "$(status a ipv6)" = true ] ||
	fail "a: families ipv4 $(status a ipv4) ipv6 $(status a ipv6)"

# ---------------------------------------------------------------- b: token enrolment over IPv6
tb_wait_for 10 is_state b registered || fail "b did not enrol with its token: $(status b state)"
[ "$(status b vip4)" = "$(node_json b vip4)" ] || fail "b: VIP differs from the DC's"
has_vips b || fail "b: the TUN lacks the VIPs"
[ "$(status b endpoint)" = "[$DC6]:7000" ] || fail "b: endpoint $(status b endpoint)"
[ "$(status b nat)" = public ] || fail "b: nat $(status b nat)"
[ "$(node_json b nat)" = public ] || fail "nodes: b is not public"

# ---------------------------------------------------------------- x: not enrolled
tb_wait_for 10 grep -q "enroll x.example.net" "$(tb_log node_x1)" ||
	fail "x: no enrol hint in the log"
[ "$(status x error)" = NOT_ENROLLED ] || fail "x: error $(status x error)"
[ "$(status x state)" = registering ] || fail "x: state $(status x state)"

# ---------------------------------------------------------------- DC outage
tb_kill "$DC_PID"
# A keep-alive is due within KA s, then 3 tries over 7 s go unanswered.
tb_wait_for $((KA + 12)) is_state a unreachable || fail "a: state $(status a state) without DC"
has_vips a "$A4" "$A6" || fail "a: lost its VIPs with the DC"
kill -0 "$PID_x" || fail "x died"
sleep 3
start_dc 2
tb_wait_for 40 is_state a registered || fail "a did not re-register: $(status a state)"
[ "$(status a vip4)" = "$A4" ] && [ "$(status a vip6)" = "$A6" ] ||
	fail "a: VIPs changed across the DC restart"
has_vips a || fail "a: the TUN lacks the VIPs after the DC restart"
tb_wait_for 10 is_state b registered || fail "b did not re-register: $(status b state)"
[ "$(node_json a online)" = true ] || fail "nodes: a not online after the DC restart"

# ---------------------------------------------------------------- node restart
tb_kill "$PID_a"
start_node a 2
tb_wait_for 10 is_state a registered || fail "a did not register after its restart"
[ "$(status a vip4)" = "$A4" ] && [ "$(status a vip6)" = "$A6" ] ||
	fail "a: VIPs changed across its restart"
has_vips a || fail "a: the TUN lacks the VIPs after its restart"

# ---------------------------------------------------------------- x still retrying
kill -0 "$PID_x" || fail "x died"
[ "$(status x error)" = NOT_ENROLLED ] || fail "x: error $(status x error)"
for p in "$PID_a" "$PID_b" "$PID_x"; do
	kill -TERM "$p"
	wait "$p" || fail "a node did not exit cleanly"
done
tb_kill "$DC_PID"
echo "node_register.sh: PASS"
