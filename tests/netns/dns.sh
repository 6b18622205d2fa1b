#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Names (DESIGN "Flows" 2). A DC serves its zone on [DNS] Listen; a real
# recursive resolver (unbound, host "r") has a stub zone for example.net
# pointing at it and a local zone with www.other.test; nodes a and b
# register at the DC.
#   - dig @DC: SOA, NS, SRV _ntm._udp (with glue), TXT _ntm-key (the DC's
#     key), over UDP and TCP; REFUSED outside the zone.
#   - Privacy: an enrolled node's name gets the very answer of a name nobody
#     has (NXDOMAIN, same authority), directly and through unbound, until
#     the admin publishes it (then its VIP), and again after withdrawing it.
#   - The node's DNS stub (default address: the pool's second address,
#     100.80.0.1, put on ntm0 with scope host; the pool route into ntm0 covers it) with Upstream = unbound: in a's namespace,
#     whose /etc/resolv.conf (bind-mounted by ip netns exec from
#     /etc/netns/NS/resolv.conf) names only the stub, `getent` of
#     b.example.net gives b's VIPs (tunnel built on the way) and `ping
#     b.example.net` works; an unknown overlay name is NXDOMAIN; the
#     ordinary name www.other.test resolves through unbound.
#
# Needs: root, unbound, dig, jq, getent.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "dns.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need unbound dig jq getent
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

tb_public_host dc
tb_public_host r
tb_public_host a
tb_public_host b
DC4=$(tb_addr4 dc)
DC6=$(tb_addr6 dc)
R4=$(tb_addr4 r)

umask 077
ntm_keys "$D" dc a b
DCPUB=$("$NTMCTL" pubkey <"$D/dc.key")
{
	ntm_dc_config "$D/dc.key" "$DC4" "$DC6" "$D/state/dc.db" 5
	printf '\n[DNS]\nListen = %s:53, [%s]:53\n' "$DC4" "$DC6"
} >"$D/dc.conf"
DCSOCK=$D/dc.sock
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" ||
	fail "ntm-dc did not start: $(tail -5 "$(tb_log dc1)")"
for n in a b; do
	dcctl enroll "$n.example.net" "$("$NTMCTL" pubkey <"$D/$n.key")" >/dev/null
done
VIP4_a=$(dcctl --json nodes | jq -r '.[] | select(.fqdn == "a.example.net") | .vip4')
VIP4_b=$(dcctl --json nodes | jq -r '.[] | select(.fqdn == "b.example.net") | .vip4')
VIP6_b=$(dcctl --json nodes | jq -r '.[] | select(.fqdn == "b.example.net") | .vip6')

# qdig NODE SERVER ARGS...: dig from NODE, short timeouts.
qdig() {
	local node=$1 server=$2
	shift 2
	tb_exec "$node" dig +time=3 +tries=2 "@$server" "$@"
}
status_of() {
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
# The authority section of a dig answer, one record a line.
authority_of() {
	awk '/^;; AUTHORITY SECTION:/ { on = 1; next } /^$/ { on = 0 } on'
}

echo "# the DC's zone over UDP and TCP"
out=$(qdig r "$DC4" +norec example.net SOA)
[ "$(status_of <<<"$out")" = NOERROR ] || fail "SOA: $out"
grep -q "flags: qr aa" <<<"$out" || fail "SOA not authoritative: $out"
grep -Eq "^example\.net\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns\.example\.net\. hostmaster\.example\.net\. [0-9]+ 3600 600 604800 60$" <<<"$out" ||
	fail "SOA record: $out"
[ "$(qdig r "$DC6" +tcp +short example.net NS)" = ns.example.net. ] || fail "NS over TCP/IPv6"
[ "$(qdig r "$DC4" +short ns.example.net A)" = "$DC4" ] || fail "ns.example.net A"
out=$(qdig r "$DC4" _ntm._udp.example.net SRV)
grep -Eq "^_ntm\._udp\.example\.net\..*SRV[[:space:]]+0 0 7000 dc\.example\.net\.$" <<<"$out" ||
	fail "SRV: $out"
grep -Eq "^dc\.example\.net\..*A[[:space:]]+$DC4$" <<<"$out" || fail "SRV glue A: $out"
grep -Eq "^dc\.example\.net\..*AAAA[[:space:]]+$DC6$" <<<"$out" || fail "SRV glue AAAA: $out"
[ "$(qdig r "$DC4" +short _ntm-key.example.net TXT)" = "\"v=ntm1; k=$DCPUB\"" ] ||
	fail "TXT: $(qdig r "$DC4" +short _ntm-key.example.net TXT), want key $DCPUB"
[ "$(qdig r "$DC4" www.other.test A | status_of)" = REFUSED ] || fail "outside the zone"

echo "# anonymous queries for node names reveal nothing"
out_a=$(qdig r "$DC4" +norec a.example.net A)
out_x=$(qdig r "$DC4" +norec x.example.net A)
[ "$(status_of <<<"$out_a")" = NXDOMAIN ] || fail "a.example.net: $out_a"
[ "$(status_of <<<"$out_x")" = NXDOMAIN ] || fail "x.example.net: $out_x"
[ "$(authority_of <<<"$out_a")" = "$(authority_of <<<"$out_x")" ] ||
	fail "the authority of an enrolled name differs from a stranger's"
[ "$(qdig r "$DC4" +norec a.example.net AAAA | status_of)" = NXDOMAIN ] || fail "a AAAA"

echo "# unbound with a stub zone for example.net and a local zone other.test"
cat >"$D/unbound.conf" <<EOF
server:
	interface: $R4
	port: 53
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	module-config: "iterator"
	do-not-query-localhost: no
	local-zone: "other.test." static
	local-data: "www.other.test. 300 IN A 192.0.2.80"
stub-zone:
	name: "example.net"
	stub-addr: $DC4
EOF
tb_spawn r unbound unbound -d -c "$D/unbound.conf"
UNBOUND_PID=$TB_PID
tb_wait_listen r udp 53 || fail "unbound did not start: $(tail -5 "$(tb_log unbound)")"
[ "$(qdig a "$R4" +short _ntm._udp.example.net SRV)" = "0 0 7000 dc.example.net." ] ||
	fail "SRV through unbound: $(qdig a "$R4" _ntm._udp.example.net SRV)"
[ "$(qdig a "$R4" b.example.net A | status_of)" = NXDOMAIN ] ||
	fail "an unpublished node through unbound"
[ "$(qdig a "$R4" +short www.other.test A)" = 192.0.2.80 ] || fail "www.other.test via unbound"

echo "# publish a.example.net: its VIP is public; withdraw it: gone again"
dcctl publish a.example.net on >/dev/null
[ "$(qdig r "$DC4" +short a.example.net A)" = "$VIP4_a" ] || fail "published a: no VIP"
[ "$(dcctl --json nodes | jq -r '.[] | select(.fqdn == "a.example.net") | .published')" = true ] ||
	fail "nodes does not show a published"
dcctl publish a.example.net off >/dev/null
[ "$(qdig r "$DC4" +norec a.example.net A | status_of)" = NXDOMAIN ] || fail "withdrawn a"
rc=0
dcctl publish nobody.example.net on >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "publish of an unknown node exited $rc, want 2"

echo "# nodes with the DNS stub (Upstream = unbound)"
for n in a b; do
	{
		ntm_node_conf "$D/$n.key" "$n" "$DC4:7000" "$DCPUB"
		printf '\n[DNS]\nUpstream = %s\n' "$R4"
	} >"$D/$n.conf"
	tb_spawn "$n" "node_$n" "$NODE" -f -v -c "$D/$n.conf" -i ntm0 -s "$D/$n.sock"
	printf -v "PID_$n" %s "$TB_PID"
done
stub_up() {
	local out
	out=$("$NTMCTL" -s "$D/$1.sock" --json dns 2>/dev/null) || return 1
	jq -e '.listen | index("100.80.0.1:53") != null' >/dev/null <<<"$out"
}
for n in a b; do
	tb_wait_for 15 stub_up "$n" || fail "$n: no stub on 100.80.0.1: $(tail -5 "$(tb_log "node_$n")")"
done
out=$("$NTMCTL" -s "$D/a.sock" --json dns) || fail "ntmctl dns"
jq -e '.domains == ["example.net"] and .listen == ["100.80.0.1:53", "[fd80:1::1]:53"]' \
	>/dev/null <<<"$out" || fail "a: dns shows $out"
tb_exec a ip -o addr show dev ntm0 | grep -q "inet 100.80.0.1/32 scope host" ||
	fail "100.80.0.1 not on ntm0 with scope host"
tb_exec a ip -o addr show dev lo | grep -q "inet6 fd80:1::1/128" || fail "fd80:1::1 not on lo"

echo "# ntmctl dns-setup prints, and with --apply writes (keeping a backup), a resolv.conf"
printf 'nameserver 192.0.2.53\nsearch corp.test\n' >"$D/resolv.conf"
"$NTMCTL" -s "$D/a.sock" dns-setup | grep -qx "nameserver 100.80.0.1" || fail "dns-setup output"
for i in 1 2; do
	"$NTMCTL" -s "$D/a.sock" dns-setup --apply --file "$D/resolv.conf" >/dev/null ||
		fail "dns-setup --apply ($i)"
done
[ "$(grep -c '^nameserver' "$D/resolv.conf")" = 3 ] || fail "applied: $(cat "$D/resolv.conf")"
[ "$(grep -m1 '^nameserver' "$D/resolv.conf")" = "nameserver 100.80.0.1" ] ||
	fail "the stub is not first: $(cat "$D/resolv.conf")"
grep -qx "search corp.test" "$D/resolv.conf" || fail "the old lines are gone"
[ "$(cat "$D/resolv.conf.ntm-backup")" = "$(printf 'nameserver 192.0.2.53\nsearch corp.test')" ] ||
	fail "backup: $(cat "$D/resolv.conf.ntm-backup")"

NS_A=$(tb_ns a)
mkdir -p "/etc/netns/$NS_A"
tb_on_exit "rm -rf '/etc/netns/$NS_A'; rmdir /etc/netns 2>/dev/null || true"
echo "nameserver 100.80.0.1" >"/etc/netns/$NS_A/resolv.conf"
chmod 644 "/etc/netns/$NS_A/resolv.conf"
tb_exec a grep -qx "nameserver 100.80.0.1" /etc/resolv.conf || fail "resolv.conf not bind-mounted"

echo "# getent and ping by name in a: the stub builds the tunnel"
got=$(tb_exec a getent ahostsv4 b.example.net | awk 'NR == 1 { print $1 }') ||
	fail "getent ahostsv4 b.example.net failed: $(tail -5 "$(tb_log node_a)")"
[ "$got" = "$VIP4_b" ] || fail "b.example.net is '$got', want $VIP4_b"
got=$(tb_exec a getent ahostsv6 b.example.net | awk 'NR == 1 { print $1 }')
[ "$got" = "$VIP6_b" ] || fail "b.example.net (v6) is '$got', want $VIP6_b"
tb_exec a ping -4 -c 3 -i 0.2 -W 5 b.example.net >/dev/null || fail "ping b.example.net"
tb_exec a ping -6 -c 3 -i 0.2 -W 5 b.example.net >/dev/null || fail "ping -6 b.example.net"

echo "# an unknown overlay name is NXDOMAIN; other names go to unbound"
rc=0
tb_exec a getent hosts nobody.example.net >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "getent nobody.example.net exited $rc, want 2 (not found)"
[ "$(qdig a 100.80.0.1 nobody.example.net A | status_of)" = NXDOMAIN ] || fail "stub: nobody"
got=$(tb_exec a getent ahostsv4 www.other.test | awk 'NR == 1 { print $1 }')
[ "$got" = 192.0.2.80 ] || fail "www.other.test via the stub is '$got'"
[ "$(qdig a 100.80.0.1 +tcp +short www.other.test A)" = 192.0.2.80 ] || fail "stub over TCP"
[ "$(qdig a 100.80.0.1 +short _ntm-key.example.net TXT)" = "\"v=ntm1; k=$DCPUB\"" ] ||
	fail "the zone's own names go upstream"

echo "# the stub is the host's: a query from another VIP of the pool gets no answer"
tb_exec a ip addr add 100.80.0.99/32 dev lo
[ "$(qdig a 100.80.0.1 -b 100.80.0.99 +tries=1 +time=2 www.other.test A | status_of)" = "" ] ||
	fail "a query from a peer's VIP was answered"
tb_exec a ip addr del 100.80.0.99/32 dev lo
[ "$(qdig a 100.80.0.1 -b "$VIP4_a" +short www.other.test A)" = 192.0.2.80 ] ||
	fail "a query from our own VIP"
"$NTMCTL" -s "$D/a.sock" --json dns | jq -c '{queries, overlay, forwarded, nxdomain, servfail}'

echo "# the node takes its stub addresses off when it stops"
kill -TERM "$PID_a"
wait "$PID_a" || fail "a did not exit cleanly"
! tb_exec a ip -o addr show | grep -q "100.80.0.1\|fd80:1::1/" || fail "a stub address was left behind"
kill -TERM "$PID_b"
wait "$PID_b" || fail "b did not exit cleanly"
tb_kill "$UNBOUND_PID"
tb_kill "$DC_PID"
echo "dns.sh: PASS"
