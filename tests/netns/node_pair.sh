#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Two ntm-node daemons on two public hosts of the testbed (lib.sh): the
# tunnel carries ping over inner IPv4 and IPv6 and a 100 MB TCP transfer
# whose sha256 must match on both ends. a knows b at an IPv4 endpoint, b
# knows a at an IPv6 one; b's PersistentKeepalive starts the handshake over
# IPv6 and a's endpoint for b roams to it (wg_interop.sh covers IPv4). The
# control socket must report the
# handshake and the traffic. Then: config errors exit non-zero naming
# file:line, a private key readable by group is refused, and SIGTERM shuts
# a node down cleanly (exit 0, TUN and control socket gone).
#
# Needs: root, iproute2, wg (wireguard-tools, for genkey), socat, jq.
set -eu
. "$(dirname "$0")/lib.sh"


fail() {
	echo "node_pair.sh: FAIL: $*" >&2
	exit 1
}

tb_init
for t in wg socat jq sha256sum; do
	command -v "$t" >/dev/null || { [ "${CI:-}" = true ] && fail "$t missing"; exit 77; }
done
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl) || NTMCTL=
D=$TB_DIR

tb_public_host a
tb_public_host b
A4=$(tb_addr4 a)
A6=$(tb_addr6 a)
B4=$(tb_addr4 b)

umask 077
wg genkey >"$D/a.key"
wg genkey >"$D/b.key"
APUB=$(wg pubkey <"$D/a.key")
BPUB=$(wg pubkey <"$D/b.key")
wg genpsk >"$D/psk"

# a: key in a PrivateKeyFile, peer b over IPv4; b: inline key, peer a over IPv6.
cat >"$D/a.conf" <<EOF
# node a
[Interface]
PrivateKeyFile = $D/a.key
ListenPort = 51820
Address = 10.99.0.1/24, fd99::1/64
MTU = 1420

[Peer]
PublicKey = $BPUB
PresharedKey = $(cat "$D/psk")
Endpoint = $B4:51821
AllowedIPs = 10.99.0.2/32
AllowedIPs = fd99::2/128
EOF
cat >"$D/b.conf" <<EOF
[Interface]
PrivateKey = $(cat "$D/b.key")
ListenPort = 51821
Address = 10.99.0.2/24
Address = fd99::2/64
DNS = 10.99.0.1

[Peer]
PublicKey = $APUB
PresharedKey = $(cat "$D/psk")
Endpoint = [$A6]:51820
AllowedIPs = 10.99.0.1/32, fd99::1/128
PersistentKeepalive = 25
EOF

tb_spawn a node_a "$NODE" -f -v -c "$D/a.conf" -i ntm0 -s "$D/a.sock"
PID_A=$TB_PID
tb_spawn b node_b "$NODE" -f -v -c "$D/b.conf" -i ntm0 -s "$D/b.sock"
PID_B=$TB_PID
tb_wait_for 5 test -S "$D/a.sock" || fail "node a did not start"
tb_wait_for 5 test -S "$D/b.sock" || fail "node b did not start"
grep -q "ignoring unsupported key 'DNS'" "$(tb_log node_b)" || fail "no warning for DNS"

echo "# ping over the tunnel, IPv4 and IPv6"
tb_exec a ping -c 3 -i 0.2 -W 5 10.99.0.2 || fail "ping 10.99.0.2"
tb_exec b ping -c 3 -i 0.2 -W 5 10.99.0.1 || fail "ping 10.99.0.1"
tb_exec a ping -6 -c 3 -i 0.2 -W 5 fd99::2 || fail "ping fd99::2"
tb_exec b ping -6 -c 3 -i 0.2 -W 5 fd99::1 || fail "ping fd99::1"

echo "# 100 MB over TCP, sha256 on both ends"
head -c 100M /dev/urandom >"$D/blob"
SENT=$(sha256sum <"$D/blob" | cut -d' ' -f1)
tb_spawn b recv sh -c "socat -u TCP6-LISTEN:5001,reuseaddr - | sha256sum >'$D/recv.sum'"
RECV_PID=$TB_PID
tb_wait_listen b tcp 5001
T0=$(date +%s.%N)
tb_exec a timeout 300 socat -u "OPEN:$D/blob,rdonly" "TCP6:[fd99::2]:5001" || fail "transfer"
wait "$RECV_PID" || fail "receiver"
T1=$(date +%s.%N)
GOT=$(cut -d' ' -f1 "$D/recv.sum")
[ "$SENT" = "$GOT" ] || fail "sha256 differs: sent $SENT received $GOT"
awk -v a="$T0" -v b="$T1" 'BEGIN { printf "# 100 MB in %.1f s (%.0f Mbit/s)\n", b - a, 800 / (b - a) }'
rm -f "$D/blob"

echo "# control socket"
PEERS=$(tb_exec a "$NTMCTL" -s "$D/a.sock" --json peers)
echo "$PEERS"
[ "$(echo "$PEERS" | jq -r '.[0].public_key')" = "$BPUB" ] || fail "peers: public_key"
[ "$(echo "$PEERS" | jq -r '.[0].latest_handshake')" != null ] || fail "peers: no handshake"
[ "$(echo "$PEERS" | jq -r '.[0].tx_bytes > 100000000')" = true ] || fail "peers: tx_bytes"
[ "$(echo "$PEERS" | jq -r '.[0].rx_bytes > 0')" = true ] || fail "peers: rx_bytes"
# a knows b by IPv4 and b knows a by IPv6, so whichever side initiated,
# the other has to roam to the address family the handshake came from.
EP_A=$(echo "$PEERS" | jq -r '.[0].endpoint')
EP_B=$(tb_exec b "$NTMCTL" -s "$D/b.sock" --json peers | jq -r '.[0].endpoint')
[ "$EP_A" = "[$(tb_addr6 b)]:51821" ] || [ "$EP_B" = "$A4:51820" ] ||
	fail "peers: no roaming (a sees b at $EP_A, b sees a at $EP_B)"
[ "$(echo "$PEERS" | jq -r '.[0].path')" = direct ] || fail "peers: path"
STATUS=$(tb_exec b "$NTMCTL" -s "$D/b.sock" --json status)
echo "$STATUS"
[ "$(echo "$STATUS" | jq -r '.listen_port')" = 51821 ] || fail "status: listen_port"
[ "$(echo "$STATUS" | jq -r '.public_key')" = "$BPUB" ] || fail "status: public_key"
tb_exec a "$NTMCTL" -s "$D/a.sock" peers
tb_exec a "$NTMCTL" -s "$D/a.sock" status

echo "# a packet to an address no peer covers: dropped, counted, ICMP unreachable"
if tb_exec a ping -c 1 -W 2 10.99.0.77 >"$D/unreach.out" 2>&1; then
	fail "ping to no peer succeeded"
fi
grep -qi "unreachable" "$D/unreach.out" || fail "no ICMP unreachable: $(cat "$D/unreach.out")"
STATUS=$(tb_exec a "$NTMCTL" -s "$D/a.sock" --json status)
[ "$(echo "$STATUS" | jq -r '.drops.no_peer')" -ge 1 ] || fail "no_peer not counted"

echo "# garbage datagrams: dropped and counted, tunnel unharmed"
tb_exec b sh -c "head -c 148 /dev/urandom | socat -u - UDP4:$A4:51820"
tb_exec b sh -c "printf '\\001\\000\\000\\000junk' | socat -u - UDP4:$A4:51820"
tb_wait_for 2 sh -c "[ \"\$(ip netns exec $(tb_ns a) $NTMCTL -s $D/a.sock --json status | jq '.drops.malformed + .drops.bad_mac1')\" -ge 2 ]" ||
	fail "garbage not counted"
tb_exec a ping -c 1 -W 5 10.99.0.2 >/dev/null || fail "tunnel broken after garbage"

echo "# SIGTERM: clean exit, TUN and socket gone"
kill -TERM "$PID_A"
wait "$PID_A" || fail "node a exited with status $?"
tb_exec a ip link show ntm0 >/dev/null 2>&1 && fail "ntm0 still exists"
[ ! -e "$D/a.sock" ] || fail "control socket left behind"
grep -q "shutting down" "$(tb_log node_a)" || fail "no shutdown message"

echo "# config errors name file:line"
expect_error() { # FILE PATTERN
	local out
	if out=$("$NODE" -f -c "$1" -i ntmx0 -s "$D/x.sock" 2>&1); then
		fail "$1 accepted"
	fi
	echo "$out"
	echo "$out" | grep -q -- "$2" || fail "expected '$2', got: $out"
}
printf '[Interface]\nPrivateKeyFile = %s\n\n[Peer]\nPublicKey = notakey\n' "$D/a.key" >"$D/badkey.conf"
expect_error "$D/badkey.conf" "badkey.conf:5: invalid PublicKey in \[Peer\]"
printf '[Interface]\nPrivateKeyFile = %s\nFoo = 1\n' "$D/a.key" >"$D/unknown.conf"
expect_error "$D/unknown.conf" "unknown.conf:3: unknown key 'Foo' in \[Interface\]"
printf '[Interface]\nPrivateKeyFile = %s\nListenPort = 70000\n' "$D/a.key" >"$D/port.conf"
expect_error "$D/port.conf" "port.conf:3: invalid ListenPort"

echo "# private keys readable by group are refused"
cp "$D/a.key" "$D/open.key"
chmod 0640 "$D/open.key"
printf '[Interface]\nPrivateKeyFile = %s\n' "$D/open.key" >"$D/openkey.conf"
expect_error "$D/openkey.conf" "openkey.conf:2: invalid PrivateKeyFile"
printf '[Interface]\nPrivateKey = %s\n' "$(cat "$D/a.key")" >"$D/inline.conf"
chmod 0644 "$D/inline.conf"
expect_error "$D/inline.conf" "inline.conf:2: invalid PrivateKey in \[Interface\]: the file may be read by group or others"
chmod 0600 "$D/inline.conf"
"$NODE" --help | grep -q -- "-c, --config" || fail "--help"
"$NODE" --version | grep -q "^ntm-node " || fail "--version"

kill -TERM "$PID_B"
wait "$PID_B" || fail "node b exited with status $?"
echo "# node_pair: all passed"
