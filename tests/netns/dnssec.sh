#!/bin/bash
# SPDX-License-Identifier: MIT
#
# DNSSEC (ntm-dc.conf(5) ZoneKey, dc/dnssign.h): the DCs sign their zones
# online, a real validating unbound (host "r") holds a trust anchor for
# each zone, taken from `ntmctl ds`, and federation trusts a key because
# the answer was validated (AD), with no PublicKey pinned on either side.
#   - Through unbound: _ntm._udp.b.example SRV and _ntm-key.b.example TXT
#     come with AD; NXDOMAIN (a name, a deeper name) and NODATA validate
#     (AD) too; delv, a second validator, finds the DC's answers "fully
#     validated" with the DS as its only anchor.
#   - n1.a.example resolves and pings x.b.example: DC-a found DC-b's key
#     validated, DC-b found DC-a's key validated. Once published, x's A
#     record validates too, and so does the SOA with its new serial.
#   - A signed parent: a second unbound (host "p") serves example. signed
#     with ldns-signzone (auth-zone), delegating a, b and c with the DCs' DS
#     records, and holds only the parent's anchor: the chain of trust
#     example. -> b.example validates (AD) through delegation, as on the
#     Internet; c.example's stale DS is bogus there too.
#   - c.example: its DC generated a new zone key after its DS went into
#     unbound's anchor (a key swap without the parent): unbound answers
#     SERVFAIL (bogus), DC-a refuses the domain, n1 gets NXDOMAIN for
#     x.c.example and DC-c never hears from DC-a.
#   - DC-b restarted with a new zone key: unbound says SERVFAIL for b.example.
#
# Needs: root, unbound, dig, delv, jq, getent, ldns-keygen, ldns-signzone,
# ldns-key2ds (ldnsutils).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "dnssec.sh: FAIL: $*" >&2
	for l in unbound dca dcb dcc node_n1 node_x; do
		echo "--- $l" >&2
		tail -15 "$(tb_log "$l")" >&2 || true
	done
	exit 1
}

tb_init
ntm_need unbound dig delv jq getent ldns-keygen ldns-signzone ldns-key2ds
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

for h in dca dcb dcc r p n1 x w; do
	tb_public_host $h
done
R4=$(tb_addr4 r)

umask 077
for k in dca dcb dcc n1 x w; do
	"$NTMCTL" genkey >"$D/$k.key"
	printf -v "PUB_$k" %s "$("$NTMCTL" pubkey <"$D/$k.key")"
done

# dc_conf NAME DOMAIN POOL4 FEDERATION: no PublicKey anywhere.
dc_conf() {
	ntm_domain_dc_conf "$D" "$@"
}
dc_conf dca a.example 100.80.0.0/16 "
[Federation]
Domain = b.example
[Federation]
Domain = c.example" >"$D/dca.conf"
dc_conf dcb b.example 100.81.0.0/16 "
[Federation]
Domain = a.example
Allow = n1.a.example -> x.b.example" >"$D/dcb.conf"
dc_conf dcc c.example 100.82.0.0/16 "
[Federation]
Domain = a.example
Allow = * -> *" >"$D/dcc.conf"

dc_start() {
	tb_resolv "$1" "$R4"
	tb_spawn "$1" "$1" "$DCBIN" -f -v -c "$D/$1.conf" -s "$D/$1.sock"
	printf -v "PID_$1" %s "$TB_PID"
	tb_wait_for 20 "$NTMCTL" -s "$D/$1.sock" ds >/dev/null ||
		fail "$1 did not start: $(tail -5 "$(tb_log "$1")")"
}
for z in a b c; do
	dc_start "dc$z"
done
[ "$(stat -c %a "$D/state/zone-b.example.key")" = 600 ] || fail "zone key not 0600"
grep -q "new key in $D/state/zone-b.example.key" "$(tb_log dcb)" || fail "no key generated"
DS_a=$("$NTMCTL" -s "$D/dca.sock" ds)
DS_b=$("$NTMCTL" -s "$D/dcb.sock" ds)
DS_c=$("$NTMCTL" -s "$D/dcc.sock" ds)
[[ "$DS_b" =~ ^b\.example\.\ [0-9]+\ IN\ DS\ [0-9]+\ 13\ 2\ [0-9a-f]{64}$ ]] ||
	fail "ntmctl ds: '$DS_b'"
[ "$("$NTMCTL" -s "$D/dcb.sock" --json ds | jq -r .ds)" = "$DS_b" ] || fail "ds --json"

echo "# c.example: a new zone key after its DS was taken"
tb_kill "$PID_dcc"
rm -f "$D/state/zone-c.example.key"
dc_start dcc
[ "$("$NTMCTL" -s "$D/dcc.sock" ds)" != "$DS_c" ] || fail "dcc kept its zone key"

echo "# unbound validates with the DCs' DS records as trust anchors"
write_unbound() {
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
	val-log-level: 2
	module-config: "validator iterator"
	aggressive-nsec: yes
	do-not-query-localhost: no
	trust-anchor: "$DS_a"
	trust-anchor: "$DS_b"
	trust-anchor: "$DS_c"
EOF
	for z in a b c; do
		printf 'stub-zone:\n\tname: "%s.example"\n\tstub-addr: %s\n' "$z" "$(tb_addr4 "dc$z")"
	done
}
write_unbound >"$D/unbound.conf"
unbound-checkconf "$D/unbound.conf" >/dev/null || fail "unbound.conf: $(unbound-checkconf "$D/unbound.conf" 2>&1)"
tb_spawn r unbound unbound -d -c "$D/unbound.conf"
UNBOUND_PID=$TB_PID
tb_wait_listen r udp 53 || fail "unbound did not start: $(tail -5 "$(tb_log unbound)")"

# dig_flags NAME TYPE: "STATUS flags" of the answer through unbound.
q() {
	tb_exec r dig +dnssec +time=5 +tries=2 @"$R4" "$@"
}
status_of() { awk '/->>HEADER<<-/ { sub(",", "", $6); print $6 }'; }
has_ad() { grep -q '^;; flags:[^;]* ad[ ;]'; }

out=$(q _ntm._udp.b.example SRV)
echo "$out" | grep -qE '^_ntm\._udp\.b\.example\.\s+[0-9]+\s+IN\s+SRV\s+0 0 7000 dc\.b\.example\.$' ||
	fail "SRV through unbound: $out"
echo "$out" | has_ad || fail "SRV without AD: $out"
out=$(q _ntm-key.b.example TXT)
echo "$out" | grep -qF "\"v=ntm1; k=$PUB_dcb\"" || fail "key TXT through unbound: $out"
echo "$out" | has_ad || fail "key TXT without AD: $out"
for name in nobody.b.example deep.er.b.example x._udp.b.example; do
	out=$(q "$name" A)
	[ "$(echo "$out" | status_of)" = NXDOMAIN ] || fail "$name: $out"
	echo "$out" | has_ad || fail "$name NXDOMAIN without AD: $out"
done
out=$(q dc.b.example TXT)
[ "$(echo "$out" | status_of)" = NOERROR ] && echo "$out" | grep -q 'ANSWER: 0' ||
	fail "NODATA dc.b.example TXT: $out"
echo "$out" | has_ad || fail "NODATA without AD: $out"

echo "# delv (BIND's validator) with the DS as its only anchor, straight at DC-b"
set -- $DS_b
printf 'trust-anchors { "%s" static-ds %s %s %s "%s"; };\n' "$1" "$5" "$6" "$7" "$8" >"$D/anchor.b"
delv_b() {
	tb_exec r delv -a "$D/anchor.b" +root=b.example @"$(tb_addr4 dcb)" "$@" 2>&1
}
for qq in "_ntm._udp.b.example SRV" "_ntm-key.b.example TXT" "b.example DNSKEY" \
	"nobody.b.example A" "ns.b.example TXT"; do
	# shellcheck disable=SC2086
	out=$(delv_b $qq)
	echo "$out" | grep -q "fully validated" || fail "delv $qq: $out"
done

echo "# nodes: n1.a.example and x.b.example"
node_start() { # NAME FQDN DC
	{
		printf '[Interface]\nPrivateKeyFile = %s\nName = %s\n\n' "$D/$1.key" "$2"
		printf '[DC]\nEndpoint = %s:7000\nPublicKey = %s\n\n' "$(tb_addr4 "$3")" \
			"$(eval echo "\$PUB_$3")"
		printf '[DNS]\nUpstream = %s\n' "$R4"
	} >"$D/$1.conf"
	tb_spawn "$1" "node_$1" "$NODE" -f -v -c "$D/$1.conf" -i ntm0 -s "$D/$1.sock"
}
"$NTMCTL" -s "$D/dca.sock" enroll n1.a.example "$PUB_n1" >/dev/null
"$NTMCTL" -s "$D/dcb.sock" enroll x.b.example "$PUB_x" >/dev/null
"$NTMCTL" -s "$D/dcc.sock" enroll w.c.example "$PUB_w" >/dev/null
node_start n1 n1.a.example dca
node_start x x.b.example dcb
node_start w w.c.example dcc
stub_up() {
	"$NTMCTL" -s "$D/$1.sock" --json dns 2>/dev/null | jq -e '.listen | length > 0' >/dev/null
}
for n in n1 x w; do
	tb_wait_for 20 stub_up "$n" || fail "$n: no DNS stub: $(tail -5 "$(tb_log "node_$n")")"
done
"$NTMCTL" -s "$D/n1.sock" --json dns | jq -e '.domains | index("b.example") != null' >/dev/null ||
	fail "n1's stub does not know b.example: $("$NTMCTL" -s "$D/n1.sock" --json dns)"
tb_resolv n1 100.80.0.1

echo "# getent and ping x.b.example on n1: both keys trusted through DNSSEC alone"
VIP4_x=$("$NTMCTL" -s "$D/dcb.sock" --json nodes |
	jq -r '.[] | select(.fqdn == "x.b.example") | .vip4')
got=$(tb_exec n1 getent ahostsv4 x.b.example | awk 'NR == 1 { print $1 }') ||
	fail "getent ahostsv4 x.b.example failed"
[ "$got" = "$VIP4_x" ] || fail "x.b.example is '$got', want $VIP4_x"
tb_exec n1 ping -4 -c 3 -i 0.2 -W 5 x.b.example >/dev/null || fail "ping x.b.example"
grep -q "federation: session with the DC of b.example" "$(tb_log dca)" || fail "no DC-DC session"
grep -q "federation: the DC of a.example called with its DNSSEC-validated key" "$(tb_log dcb)" ||
	fail "DC-b did not validate DC-a's key"
[ "$("$NTMCTL" -s "$D/dcb.sock" --json status | jq -r '.dns.dnssec')" = true ] ||
	fail "status: dnssec not true"
[ "$("$NTMCTL" -s "$D/dcb.sock" --json status | jq -r '.dns.signed_answers')" -gt 0 ] ||
	fail "status: no signed answers"

echo "# a published node: its A record validates, and so does the SOA signed again"
"$NTMCTL" -s "$D/dcb.sock" publish x.b.example on >/dev/null
out=$(q x.b.example A)
echo "$out" | grep -qE "^x\.b\.example\.\s+[0-9]+\s+IN\s+A\s+$VIP4_x$" || fail "x.b.example A: $out"
echo "$out" | has_ad || fail "published node without AD: $out"
out=$(q b.example SOA)
echo "$out" | has_ad || fail "SOA after the serial moved on without AD: $out"

echo "# a signed parent: example. (ldns-signzone) holds the DCs' DS records; one anchor"
(cd "$D" && ldns-keygen -a ECDSAP256SHA256 -k example >"$D/parent.name") ||
	fail "ldns-keygen failed"
PK=$D/$(cat "$D/parent.name")
{
	printf '$ORIGIN example.\n$TTL 3600\n'
	printf '@ IN SOA ns.example. hostmaster.example. 1 3600 600 604800 60\n'
	printf '@ IN NS ns.example.\nns IN A %s\n' "$(tb_addr4 p)"
	for z in a b c; do
		printf '%s IN NS ns.%s.example.\nns.%s IN A %s\n' "$z" "$z" "$z" "$(tb_addr4 "dc$z")"
	done
	printf '%s\n%s\n%s\n' "$DS_a" "$DS_b" "$DS_c"
} >"$D/example.zone"
ldns-signzone -f "$D/example.zone.signed" "$D/example.zone" "$PK" ||
	fail "ldns-signzone failed"
P4=$(tb_addr4 p)
cat >"$D/parent.conf" <<EOF
server:
	interface: $P4
	port: 53
	access-control: 0.0.0.0/0 allow
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/parent.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	module-config: "validator iterator"
	do-not-query-localhost: no
	trust-anchor: "$(ldns-key2ds -n -2 "$PK.key" | tr '\t' ' ')"
auth-zone:
	name: "example."
	zonefile: "$D/example.zone.signed"
	for-upstream: yes
	for-downstream: no
	fallback-enabled: no
EOF
tb_spawn p parent unbound -d -c "$D/parent.conf"
PARENT_PID=$TB_PID
tb_wait_listen p udp 53 || fail "unbound (signed parent) did not start: $(tail -5 "$(tb_log parent)")"
qp() {
	tb_exec p dig +dnssec +time=5 +tries=2 @"$P4" "$@"
}
for qq in "_ntm._udp.b.example SRV" "_ntm-key.a.example TXT" "x.b.example A"; do
	# shellcheck disable=SC2086
	out=$(qp $qq)
	[ "$(echo "$out" | status_of)" = NOERROR ] && echo "$out" | has_ad ||
		fail "through the signed parent, $qq: $out"
done
out=$(qp nobody.b.example A)
[ "$(echo "$out" | status_of)" = NXDOMAIN ] && echo "$out" | has_ad ||
	fail "through the signed parent, NXDOMAIN: $out"
out=$(qp _ntm-key.c.example TXT)
[ "$(echo "$out" | status_of)" = SERVFAIL ] || fail "through the signed parent, c.example: $out"
tb_kill "$PARENT_PID"

echo "# c.example, whose key no longer matches its anchor: bogus, refused"
out=$(q _ntm-key.c.example TXT)
[ "$(echo "$out" | status_of)" = SERVFAIL ] || fail "c.example key record not bogus: $out"
rc=0
tb_exec n1 getent hosts w.c.example >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "getent w.c.example exited $rc, want 2"
grep -q "federation: c.example: no key record _ntm-key and no PublicKey pinned" \
	"$(tb_log dca)" || fail "DC-a does not report the unusable key record of c.example"
! grep -q "calling itself a.example\|the DC of a.example" "$(tb_log dcc)" || fail "DC-c heard from DC-a"
! grep -q "session with the DC of c.example" "$(tb_log dca)" || fail "DC-a talked to DC-c"

echo "# DC-b restarted with a new zone key: unbound finds b.example bogus"
tb_kill "$PID_dcb"
rm -f "$D/state/zone-b.example.key"
dc_start dcb
tb_kill "$UNBOUND_PID"
tb_spawn r unbound unbound -d -c "$D/unbound.conf"
UNBOUND_PID=$TB_PID
tb_wait_listen r udp 53 || fail "unbound did not restart"
out=$(q _ntm-key.b.example TXT)
[ "$(echo "$out" | status_of)" = SERVFAIL ] || fail "b.example with a new key not bogus: $out"
out=$(q nobody.b.example A)
[ "$(echo "$out" | status_of)" = SERVFAIL ] || fail "b.example NXDOMAIN with a new key: $out"

tb_kill "$UNBOUND_PID"
echo "dnssec.sh: PASS"
