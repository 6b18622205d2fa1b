#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ntm-node against a stock userspace WireGuard (wireguard-go, configured
# with wg and ip) on two public hosts of the testbed (lib.sh), over IPv4.
# Round 1: ntm-node starts the handshake (it pings first). Round 2, after
# restarting both, with a preshared key: wireguard-go starts it. Each round:
# ping over inner IPv4 and IPv6 both ways, and a TCP transfer each way
# whose sha256 must match.
#
# Needs: root, wireguard-go, wg (wireguard-tools), socat.
set -eu
. "$(dirname "$0")/lib.sh"

fail() {
	echo "wg_interop.sh: FAIL: $*" >&2
	exit 1
}

tb_init
for t in wireguard-go wg socat sha256sum; do
	command -v "$t" >/dev/null || { [ "${CI:-}" = true ] && fail "$t missing"; exit 77; }
done
NODE=$(tb_bin endnode/ntm-node)
D=$TB_DIR
# wireguard-go's UAPI socket lives in /var/run/wireguard, shared by all
# namespaces: a unique interface name keeps parallel runs apart.
WGIF=wgi$$
WGIF=${WGIF:0:15}

tb_public_host a # ntm-node
tb_public_host w # wireguard-go
A4=$(tb_addr4 a)
W4=$(tb_addr4 w)

umask 077
wg genkey >"$D/a.key"
wg genkey >"$D/w.key"
wg genpsk >"$D/psk"
APUB=$(wg pubkey <"$D/a.key")
WPUB=$(wg pubkey <"$D/w.key")

write_node_conf() { # [PSK-LINE]
	cat >"$D/a.conf" <<EOF
[Interface]
PrivateKeyFile = $D/a.key
ListenPort = 51820
Address = 10.98.0.1/24, fd98::1/64

[Peer]
PublicKey = $WPUB
Endpoint = $W4:51830
AllowedIPs = 10.98.0.2/32, fd98::2/128
${1:-}
EOF
}

start_node() {
	tb_spawn a "node$1" "$NODE" -f -v -c "$D/a.conf" -i ntm0 -s "$D/a.sock"
	NODE_PID=$TB_PID
	tb_wait_for 5 test -S "$D/a.sock" || fail "ntm-node did not start"
}

start_wg() { # ROUND [psk]
	tb_spawn w "wg$1" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$WGIF"
	WG_PID=$TB_PID
	tb_wait_for 5 test -S "/var/run/wireguard/$WGIF.sock" || fail "wireguard-go did not start"
	local psk=()
	[ "${2:-}" = psk ] && psk=(preshared-key "$D/psk")
	tb_exec w wg set "$WGIF" private-key "$D/w.key" listen-port 51830 \
		peer "$APUB" "${psk[@]}" endpoint "$A4:51820" allowed-ips 10.98.0.1/32,fd98::1/128
	tb_exec w ip addr add 10.98.0.2/24 dev "$WGIF"
	tb_exec w ip addr add fd98::2/64 dev "$WGIF" nodad
	tb_exec w ip link set "$WGIF" mtu 1420 up
}

stop_all() {
	kill -TERM "$NODE_PID"
	wait "$NODE_PID" || fail "ntm-node exited with status $?"
	tb_kill "$WG_PID"
	tb_wait_for 5 sh -c "! test -e /var/run/wireguard/$WGIF.sock" || true
}

ping_both() {
	tb_exec a ping -c 3 -i 0.2 -W 5 10.98.0.2 || fail "ping 10.98.0.2"
	tb_exec w ping -c 3 -i 0.2 -W 5 10.98.0.1 || fail "ping 10.98.0.1"
	tb_exec a ping -6 -c 3 -i 0.2 -W 5 fd98::2 || fail "ping fd98::2"
	tb_exec w ping -6 -c 3 -i 0.2 -W 5 fd98::1 || fail "ping fd98::1"
}

# tcp FROM TO TO-ADDR PORT: 20 MB, checksums compared.
tcp() {
	local sent got pid
	head -c 20M /dev/urandom >"$D/blob"
	sent=$(sha256sum <"$D/blob" | cut -d' ' -f1)
	tb_spawn "$2" "recv$4" sh -c "socat -u TCP-LISTEN:$4,reuseaddr - | sha256sum >'$D/recv.sum'"
	pid=$TB_PID
	tb_wait_listen "$2" tcp "$4"
	tb_exec "$1" timeout 120 socat -u "OPEN:$D/blob,rdonly" "TCP:$3:$4" || fail "tcp $1 -> $2"
	wait "$pid" || fail "receiver on $2"
	got=$(cut -d' ' -f1 "$D/recv.sum")
	[ "$sent" = "$got" ] || fail "tcp $1 -> $2: sha256 differs"
	echo "# tcp $1 -> $2: 20 MB, sha256 ok"
}

echo "# round 1: ntm-node initiates"
write_node_conf
start_node 1
start_wg 1
tb_exec a ping -c 1 -W 5 10.98.0.2 || fail "first ping from ntm-node"
grep -q "sending handshake initiation" "$(tb_log node1)" || fail "ntm-node did not initiate"
grep -q "handshake initiation received" "$(tb_log node1)" && fail "wireguard-go initiated in round 1"
grep -q "handshake complete" "$(tb_log node1)" || fail "no handshake in round 1"
ping_both
tcp a w 10.98.0.2 5001
tcp w a 10.98.0.1 5002
tb_exec w wg show "$WGIF"
stop_all

echo "# round 2: wireguard-go initiates, with a preshared key"
write_node_conf "PresharedKey = $(cat "$D/psk")"
start_wg 2 psk
start_node 2
tb_exec w ping -c 1 -W 5 10.98.0.1 || fail "first ping from wireguard-go"
grep -q "handshake initiation received" "$(tb_log node2)" || fail "wireguard-go did not initiate"
grep -q "sending handshake initiation" "$(tb_log node2)" && fail "ntm-node initiated in round 2"
ping_both
tcp w a 10.98.0.1 5003
tcp a w 10.98.0.2 5004
tb_exec w wg show "$WGIF"
stop_all
echo "# wg_interop: all passed"
