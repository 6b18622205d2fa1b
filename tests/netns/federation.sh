#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Federation (DESIGN "Flows" 2, ntm-dc.conf(5) [Federation]). Five DCs, each
# the authoritative DNS server of its domain ([DNS] Listen); a real unbound
# (host "r") is the recursive resolver of everyone and delegates each
# domain to its DC (stub zones). Nodes: n1.a.example behind a cone NAT,
# x.b.example public, y.b.example behind another cone NAT, z.b.example
# behind a symmetric NAT; b.example has a relay (rsb).
#   - DC-a finds DC-b through DNS (SRV _ntm._udp.b.example, A, TXT
#     _ntm-key), its key matches the pin: `getent hosts x.b.example` and
#     `ping x.b.example` on n1 give x's VIP and work; both pools are
#     distinct (Pool6 omitted: a random RFC 4193 prefix per DC).
#   - z.b.example (cone <-> symmetric: the path rules say relay): DC-b
#     allocates a session on its relay and offers it to z and, through
#     DC-a (FED_RELAY), to n1; getent and ping z.b.example work and both
#     ends show the relay path.
#   - nobody.b.example: NXDOMAIN. y.b.example: DC-b's policy (Allow =
#     n1.a.example -> x.b.example) denies it: NXDOMAIN, DC-b logs it.
#   - revoking x.b.example on DC-b sends FED_REVOKED to DC-a (it answered
#     DC-a's query about x), which sends PEER_REVOKED to n1: within 10 s n1
#     no longer lists x and a ping to x's VIP fails; both DCs log it.
#   - c.example's DC has Pool4 = a's: refused at the DC-DC handshake with
#     the clear error on both sides.
#   - d.example's DC has no [Federation] for a.example: refused
#     (FED_NOT_ALLOWED).
#   - e.example's key in DNS is not the one DC-a pins: refused before any
#     session.
#   - f.example has no pinned key in DC-a's config, and its key record comes
#     without the AD bit (unbound does not validate here): refused.
#   - g.example's DC pins no key for a.example: DC-a's key record comes
#     without the AD bit, so DC-g refuses DC-a (FED_NOT_ALLOWED).
#
# Needs: root, unbound, dig, jq, getent.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "federation.sh: FAIL: $*" >&2
	for l in dca dcb dcc dcd dcf dcg rsb node_n1 node_x node_z; do
		echo "--- $l" >&2
		tail -15 "$(tb_log "$l")" >&2 || true
	done
	exit 1
}

tb_init
ntm_need unbound dig jq getent
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

for h in dca dcb dcc dcd dce dcf dcg r x rsb; do
	tb_public_host $h
done
tb_router ra cone
tb_nat_host n1 ra
tb_router rb cone
tb_nat_host y rb
tb_router rz symmetric
tb_nat_host z rz
R4=$(tb_addr4 r)

umask 077
for k in dca dcb dcc dcd dce dcf dcg n1 x y z rsb wrong; do
	"$NTMCTL" genkey >"$D/$k.key"
	printf -v "PUB_$k" %s "$("$NTMCTL" pubkey <"$D/$k.key")"
done

# dc_conf NAME DOMAIN POOL4 [FEDERATION TEXT]: no Pool6 (the random default).
dc_conf() {
	ntm_domain_dc_conf "$D" "$@"
}

dc_conf dca a.example 100.80.0.0/16 "
[Federation]
Domain = b.example
PublicKey = $PUB_dcb
[Federation]
Domain = c.example
PublicKey = $PUB_dcc
[Federation]
Domain = d.example
PublicKey = $PUB_dcd
[Federation]
Domain = e.example
PublicKey = $PUB_wrong
[Federation]
Domain = f.example
[Federation]
Domain = g.example
PublicKey = $PUB_dcg" >"$D/dca.conf"
dc_conf dcb b.example 100.81.0.0/16 "
[Federation]
Domain = a.example
PublicKey = $PUB_dca
Allow = n1.a.example -> x.b.example
Allow = n1.a.example -> z.b.example" >"$D/dcb.conf"
dc_conf dcc c.example 100.80.0.0/16 "
[Federation]
Domain = a.example
PublicKey = $PUB_dca
Allow = * -> *" >"$D/dcc.conf"
dc_conf dcd d.example 100.83.0.0/16 "" >"$D/dcd.conf"
dc_conf dce e.example 100.84.0.0/16 "" >"$D/dce.conf"
dc_conf dcf f.example 100.85.0.0/16 "" >"$D/dcf.conf"
dc_conf dcg g.example 100.86.0.0/16 "
[Federation]
Domain = a.example
Allow = * -> *" >"$D/dcg.conf"

echo "# unbound delegates each domain to its DC"
{
	cat <<EOF
server:
	interface: $R4
	port: 53
	access-control: 0.0.0.0/0 allow
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	module-config: "iterator"
	do-not-query-localhost: no
	domain-insecure: "example"
EOF
	for z in a b c d e f g; do
		printf 'stub-zone:\n\tname: "%s.example"\n\tstub-addr: %s\n' "$z" "$(tb_addr4 "dc$z")"
	done
} >"$D/unbound.conf"
tb_spawn r unbound unbound -d -c "$D/unbound.conf"
UNBOUND_PID=$TB_PID
tb_wait_listen r udp 53 || fail "unbound did not start: $(tail -5 "$(tb_log unbound)")"

for z in a b c d e f g; do
	tb_resolv "dc$z" "$R4"
	tb_spawn "dc$z" "dc$z" "$DCBIN" -f -v -c "$D/dc$z.conf" -s "$D/dc$z.sock"
	printf -v "PID_dc$z" %s "$TB_PID"
done
for z in a b c d e f g; do
	tb_wait_for 20 "$NTMCTL" -s "$D/dc$z.sock" nodes >/dev/null ||
		fail "dc$z did not start: $(tail -5 "$(tb_log "dc$z")")"
done
"$NTMCTL" -s "$D/dca.sock" enroll n1.a.example "$PUB_n1" >/dev/null
"$NTMCTL" -s "$D/dcb.sock" enroll x.b.example "$PUB_x" >/dev/null
"$NTMCTL" -s "$D/dcb.sock" enroll y.b.example "$PUB_y" >/dev/null
"$NTMCTL" -s "$D/dcb.sock" enroll z.b.example "$PUB_z" >/dev/null
"$NTMCTL" -s "$D/dcb.sock" enroll --relay rsb "$PUB_rsb" >/dev/null
printf '[RS]\nPrivateKeyFile = %s\nListen = %s:7100\nSessions = 100\n[DC]\n' \
	"$D/rsb.key" "$(tb_addr4 rsb)" >"$D/rsb.conf"
printf 'Endpoint = %s:7000\nPublicKey = %s\n' "$(tb_addr4 dcb)" "$PUB_dcb" >>"$D/rsb.conf"
tb_spawn rsb rsb "$(tb_bin rs/ntm-rs)" -f -v -c "$D/rsb.conf" -s "$D/rsb.sock"
rs_registered() {
	[ "$("$NTMCTL" -s "$D/rsb.sock" --json status | jq -r .dc.state)" = registered ]
}
tb_wait_for 20 rs_registered || fail "rsb did not register: $(tail -5 "$(tb_log rsb)")"
vip() {
	"$NTMCTL" -s "$D/$1.sock" --json nodes | jq -r ".[] | select(.fqdn == \"$2\") | .$3"
}
VIP4_x=$(vip dcb x.b.example vip4)
VIP6_x=$(vip dcb x.b.example vip6)
VIP6_n1=$(vip dca n1.a.example vip6)
[[ "$VIP6_x" == fd* && "$VIP6_n1" == fd* ]] || fail "default Pool6 not RFC 4193: $VIP6_x $VIP6_n1"
[ "${VIP6_x%%::*}" != "${VIP6_n1%%::*}" ] || fail "both DCs picked one Pool6: $VIP6_x $VIP6_n1"
[ "$(tb_exec r dig +short @"$R4" _ntm._udp.b.example SRV)" = "0 0 7000 dc.b.example." ] ||
	fail "SRV of b.example through unbound"

echo "# nodes n1 (a.example, behind NAT), x and y (b.example)"
node_start() { # NAME FQDN DC DCNAME
	local dcaddr
	dcaddr=$(tb_addr4 "$3")
	{
		printf '[Interface]\nPrivateKeyFile = %s\nName = %s\n\n' "$D/$1.key" "$2"
		printf '[DC]\nEndpoint = %s:7000\nPublicKey = %s\n\n' "$dcaddr" "$4"
		printf '[DNS]\nUpstream = %s\nDomains = c.example, d.example, e.example, f.example, g.example\n' "$R4"
	} >"$D/$1.conf"
	tb_spawn "$1" "node_$1" "$NODE" -f -v -c "$D/$1.conf" -i ntm0 -s "$D/$1.sock"
}
node_start n1 n1.a.example dca "$PUB_dca"
node_start x x.b.example dcb "$PUB_dcb"
node_start y y.b.example dcb "$PUB_dcb"
node_start z z.b.example dcb "$PUB_dcb"
stub_up() {
	"$NTMCTL" -s "$D/$1.sock" --json dns 2>/dev/null | jq -e '.listen | length > 0' >/dev/null
}
for n in n1 x y z; do
	tb_wait_for 20 stub_up "$n" || fail "$n: no DNS stub: $(tail -5 "$(tb_log "node_$n")")"
done
"$NTMCTL" -s "$D/n1.sock" --json dns | jq -e '.domains | index("b.example") != null' >/dev/null ||
	fail "n1's stub does not know b.example: $("$NTMCTL" -s "$D/n1.sock" --json dns)"
tb_resolv n1 100.80.0.1

echo "# getent and ping x.b.example on n1"
got=$(tb_exec n1 getent ahostsv4 x.b.example | awk 'NR == 1 { print $1 }') ||
	fail "getent ahostsv4 x.b.example failed"
[ "$got" = "$VIP4_x" ] || fail "x.b.example is '$got', want $VIP4_x"
got=$(tb_exec n1 getent hosts x.b.example | awk 'NR == 1 { print $1 }')
[ "$got" = "$VIP6_x" ] || [ "$got" = "$VIP4_x" ] || fail "getent hosts x.b.example: '$got'"
tb_exec n1 ping -4 -c 3 -i 0.2 -W 5 x.b.example >/dev/null || fail "ping x.b.example"
grep -q "federation: session with the DC of b.example" "$(tb_log dca)" || fail "no DC-DC session"

echo "# z.b.example behind a symmetric NAT: relayed through b.example's relay"
VIP4_z=$(vip dcb z.b.example vip4)
got=$(tb_exec n1 getent ahostsv4 z.b.example | awk 'NR == 1 { print $1 }') ||
	fail "getent ahostsv4 z.b.example failed"
[ "$got" = "$VIP4_z" ] || fail "z.b.example is '$got', want $VIP4_z"
tb_exec n1 ping -4 -c 3 -i 0.2 -W 5 z.b.example >/dev/null || fail "ping z.b.example"
grep -q "offered to z.b.example and (through its DC) n1.a.example" "$(tb_log dcb)" ||
	fail "DC-b offered no relay"
grep -q "relay of b.example: session [0-9a-f]* offered to n1.a.example (peer z.b.example)" \
	"$(tb_log dca)" || fail "DC-a did not pass the relay on"
path_to() { # NODE PEERKEY
	"$NTMCTL" -s "$D/$1.sock" --json peers |
		jq -r --arg k "$2" '.[] | select(.public_key == $k) | .path'
}
[ "$(path_to n1 "$PUB_z")" = relay ] || fail "n1 shows path '$(path_to n1 "$PUB_z")' to z"
[ "$(path_to z "$PUB_n1")" = relay ] || fail "z shows path '$(path_to z "$PUB_n1")' to n1"

echo "# an unknown name, and one the policy of b.example denies: NXDOMAIN"
rc=0
tb_exec n1 getent hosts nobody.b.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "getent nobody.b.example exited $rc, want 2"
rc=0
tb_exec n1 getent hosts y.b.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "getent y.b.example (denied) exited $rc, want 2"
grep -q "n1.a.example -> y.b.example denied by policy" "$(tb_log dcb)" || fail "no policy denial"

echo "# overlapping pools (c.example): refused with the clear error"
rc=0
tb_exec n1 getent hosts x.c.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "x.c.example exited $rc, want 2"
grep -q "VIP pool 100.80.0.0/16 of a.example overlaps pool 100.80.0.0/16 of c.example" \
	"$(tb_log dcc)" || fail "DC-c does not name the overlap"
grep -q "the DC of c.example refused us: FED_POOL_OVERLAP" "$(tb_log dca)" ||
	fail "DC-a does not report the overlap"

echo "# a domain whose DC does not list us (d.example): refused"
rc=0
tb_exec n1 getent hosts x.d.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "x.d.example exited $rc, want 2"
grep -q "the DC of d.example refused us: FED_NOT_ALLOWED" "$(tb_log dca)" ||
	fail "DC-a does not report d's refusal"

echo "# a wrong pinned key (e.example): refused before any session"
rc=0
tb_exec n1 getent hosts x.e.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "x.e.example exited $rc, want 2"
grep -q "federation: e.example: DNS has key $PUB_dce, \[Federation\] pins $PUB_wrong: refused" \
	"$(tb_log dca)" || fail "DC-a does not report the key mismatch"
! grep -q "session with the DC of e.example" "$(tb_log dca)" || fail "DC-e was contacted"

echo "# an unpinned key without DNSSEC validation (f.example): refused"
rc=0
tb_exec n1 getent hosts x.f.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "x.f.example exited $rc, want 2"
grep -q "federation: f.example: key record not DNSSEC-validated (no AD bit) and no PublicKey pinned: refused" \
	"$(tb_log dca)" || fail "DC-a does not report the unvalidated key"

echo "# a DC that pins no key for us (g.example) and cannot validate ours: refused"
rc=0
tb_exec n1 getent hosts x.g.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "x.g.example exited $rc, want 2"
grep -q "federation: a DC calling itself a.example: its key record is not DNSSEC-validated: refused" \
	"$(tb_log dcg)" || fail "DC-g does not report the unvalidated caller"
grep -q "the DC of g.example refused us: FED_NOT_ALLOWED: your key is not DNSSEC-validated here" \
	"$(tb_log dca)" || fail "DC-a does not report g's refusal"

echo "# revoke x.b.example on DC-b: FED_REVOKED to DC-a, which tells n1 (PEER_REVOKED)"
has_peer_x() {
	"$NTMCTL" -s "$D/n1.sock" --json peers |
		jq -e --arg k "$PUB_x" 'any(.[]; .public_key == $k)' >/dev/null
}
tb_exec n1 ping -4 -c 1 -W 5 "$VIP4_x" >/dev/null || fail "n1: ping x before the revocation"
has_peer_x || fail "n1 has no peer x before the revocation"
t0=$(date +%s%N)
"$NTMCTL" -s "$D/dcb.sock" revoke x.b.example >/dev/null || fail "revoke x.b.example on DC-b"
no_peer_x() { ! has_peer_x; }
tb_wait_for 10 no_peer_x || fail "n1 still lists x 10 s after its revocation"
echo "# n1 dropped x $((($(date +%s%N) - t0) / 1000000)) ms after the revoke command"
grep -q "federation: FED_REVOKED x.b.example sent to the DC of a.example" "$(tb_log dcb)" ||
	fail "DC-b did not log the FED_REVOKED it sent"
grep -q "federation: FED_REVOKED x.b.example from the DC of b.example: 1 peer(s) told" \
	"$(tb_log dca)" || fail "DC-a did not log the FED_REVOKED"
rc=0
tb_exec n1 ping -4 -c 2 -i 0.5 -W 2 "$VIP4_x" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "ping to the revoked x still works"

tb_kill "$UNBOUND_PID"
echo "federation.sh: PASS"
