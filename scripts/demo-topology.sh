#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo topology, run from a build directory by scripts/demo: a small
# Internet in network namespaces with home routers of each NAT kind and hosts
# behind them, probed with real traffic, an ntm-node tunnel from behind a
# NAT to a public hub, and a Direction Coordinator that alice registers at
# (her VIPs come from it) and through which she builds a tunnel to the hub
# by name; a Relay Server; carol behind the symmetric NAT and dave behind
# the router without an input firewall join, and the DC picks each pair's
# path (punched, relayed); alice's DNS stub turns a name lookup into a
# tunnel; and a recipe on alice's agent switches carol's fan over the
# relayed tunnel. Everything is removed on exit.
set -eu
. "$(dirname "$0")/../tests/netns/lib.sh"

say() { printf '\n== %s\n' "$*"; }

tb_init
say "building the topology"
tb_public_host stun1 # two public servers, as a DC's Listen and AltListen
tb_public_host stun2
tb_router home cone
tb_router mobile symmetric
tb_router cafe open --delay 10
tb_nat_host alice home
tb_nat_host bob home
tb_nat_host carol mobile
tb_nat_host dave cafe
cat <<TXT
  Internet core          198.51.100.254, 2001:db8::ffff
  stun1, stun2           $(tb_addr4 stun1), $(tb_addr4 stun2)  (public, dual-stack)
  home   (cone NAT)      $(tb_addr4 home)   alice $(tb_addr4 alice), bob $(tb_addr4 bob)
  mobile (symmetric NAT) $(tb_addr4 mobile)   carol $(tb_addr4 carol)
  cafe   (no input fw)   $(tb_addr4 cafe)   dave $(tb_addr4 dave)   (10 ms each way)
TXT

probe=$(tb_bin udpprobe)
for s in stun1 stun2; do
	tb_spawn "$s" "udpprobe-$s" "$probe" server 3478
	tb_wait_listen "$s" udp 3478
done

say "NAT mappings seen from two public servers (same port = endpoint-independent)"
for h in alice bob carol dave; do
	printf '%-6s ' "$h"
	tb_exec "$h" "$probe" query -b 40000 -t 2000 \
		"$(tb_addr4 stun1)" 3478 "$(tb_addr4 stun2)" 3478 | tr '\n' ' '
	echo
done

say "two hosts behind one NAT reach each other by private address"
tb_exec alice ping -c 2 -i 0.2 -q "$(tb_addr4 bob)" | tail -n 2

say "IPv6 is routed (no NAT) behind the home router"
tb_exec alice ping -6 -c 2 -i 0.2 -q "$(tb_addr6 stun1)" | tail -n 2

say "the cafe uplink has 10 ms of emulated delay each way (user-space linkemu)"
tb_exec dave ping -c 5 -i 0.2 -q "$(tb_addr4 stun1)" | tail -n 1

say "an encrypted tunnel (WireGuard protocol) from alice, behind the cone NAT, to a public hub"
node=$(tb_bin endnode/ntm-node)
ctl=$(tb_bin ntmctl/ntmctl)
tb_public_host hub
umask 077
"$ctl" genkey >"$TB_DIR/hub.key"
"$ctl" genkey >"$TB_DIR/alice.key"
cat >"$TB_DIR/hub.conf" <<CONF
[Interface]
PrivateKeyFile = $TB_DIR/hub.key
ListenPort = 51820
Address = 100.64.0.1/24, fd64::1/64

[Peer]
PublicKey = $("$ctl" pubkey <"$TB_DIR/alice.key")
AllowedIPs = 100.64.0.2/32, fd64::2/128
CONF
cat >"$TB_DIR/alice.conf" <<CONF
[Interface]
PrivateKeyFile = $TB_DIR/alice.key
Address = 100.64.0.2/24, fd64::2/64

[Peer]
PublicKey = $("$ctl" pubkey <"$TB_DIR/hub.key")
Endpoint = $(tb_addr4 hub):51820
AllowedIPs = 100.64.0.1/32, fd64::1/128
PersistentKeepalive = 25
CONF
tb_spawn hub ntm-node-hub "$node" -f -c "$TB_DIR/hub.conf" -s "$TB_DIR/hub.sock"
tb_spawn alice ntm-node-alice "$node" -f -c "$TB_DIR/alice.conf" -s "$TB_DIR/alice.sock"
tb_wait_for 5 test -S "$TB_DIR/hub.sock" -a -S "$TB_DIR/alice.sock"
tb_exec hub ping -c 3 -i 0.2 -W 5 -q 100.64.0.2 | tail -n 2
tb_exec alice ping -6 -c 3 -i 0.2 -W 5 -q fd64::1 | tail -n 2
echo "the hub sees alice at her NAT's address:"
tb_exec hub "$ctl" -s "$TB_DIR/hub.sock" peers

if command -v iperf3 >/dev/null; then
	say "TCP through the tunnel (iperf3, 3 s)"
	tb_spawn hub iperf3 iperf3 -s -1 -B 100.64.0.1
	tb_wait_listen hub tcp 5201
	tb_exec alice iperf3 -c 100.64.0.1 -t 3 -f m | grep -E 'sender|receiver'
fi

say "a Direction Coordinator on the public segment; alice registers from behind the cone NAT"
dc=$(tb_bin dc/ntm-dc)
tb_public_host dc
"$ctl" genkey >"$TB_DIR/dc.key"
cat >"$TB_DIR/dc.conf" <<CONF
[DC]
Domain = example.net
PrivateKeyFile = $TB_DIR/dc.key
Listen = $(tb_addr4 dc):7000, [$(tb_addr6 dc)]:7000
AltListen = $(tb_addr4 dc):7001
Pool4 = 100.80.0.0/16
Pool6 = fd80:1::/64
Database = $TB_DIR/dc.db

[DNS]
Listen = $(tb_addr4 dc):53
CONF
tb_spawn dc ntm-dc "$dc" -f -c "$TB_DIR/dc.conf" -s "$TB_DIR/dc.sock"
tb_wait_for 5 "$ctl" -s "$TB_DIR/dc.sock" nodes
"$ctl" -s "$TB_DIR/dc.sock" enroll alice.example.net "$("$ctl" pubkey <"$TB_DIR/alice.key")"
cat >"$TB_DIR/alice-dc.conf" <<CONF
[Interface]
PrivateKeyFile = $TB_DIR/alice.key
Name = alice.example.net

[DC]
Endpoint = $(tb_addr4 dc):7000, [$(tb_addr6 dc)]:7000
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc.key")
CONF
tb_spawn alice ntm-node-alice-dc "$node" -f -c "$TB_DIR/alice-dc.conf" -i ntm1 \
	-s "$TB_DIR/alice-dc.sock"
registered() {
	"$ctl" -s "$TB_DIR/alice-dc.sock" --json status | grep -q '"state": *"registered"'
}
tb_wait_for 10 registered || echo "alice did not register (see the logs)"
echo "the DC's node list (outside = the home router's address):"
"$ctl" -s "$TB_DIR/dc.sock" nodes
echo "alice's second interface carries the VIPs the DC assigned:"
tb_exec alice ip -brief addr show dev ntm1

say "the hub enrols itself with a one-time token; alice builds a tunnel to it by name"
token=$("$ctl" -s "$TB_DIR/dc.sock" --json token create hub.example.net |
	sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
cat >"$TB_DIR/hub-dc.conf" <<CONF
[Interface]
PrivateKeyFile = $TB_DIR/hub.key
Name = hub.example.net

[DC]
Endpoint = $(tb_addr4 dc):7000
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc.key")
Token = $token
CONF
tb_spawn hub ntm-node-hub-dc "$node" -f -c "$TB_DIR/hub-dc.conf" -i ntm1 -s "$TB_DIR/hub-dc.sock"
hub_registered() {
	"$ctl" -s "$TB_DIR/hub-dc.sock" --json status | grep -q '"state": *"registered"'
}
tb_wait_for 10 hub_registered || echo "the hub did not register (see the logs)"
echo "ntmctl resolve hub.example.net (FQDN VIP4 VIP6 PATH MS):"
tb_exec alice "$ctl" -s "$TB_DIR/alice-dc.sock" resolve hub.example.net | tee "$TB_DIR/resolve.out"
hub_vip=$(cut -d' ' -f2 "$TB_DIR/resolve.out")
[ -n "$hub_vip" ] && tb_exec alice ping -c 3 -i 0.2 -W 5 -q "$hub_vip" | tail -n 2

say "the DC's own DNS zone (anonymous queries see the DC, not the nodes)"
if command -v dig >/dev/null; then
	tb_exec alice dig +short @"$(tb_addr4 dc)" _ntm._udp.example.net SRV
	tb_exec alice dig +short @"$(tb_addr4 dc)" _ntm-key.example.net TXT
	echo "hub.example.net, unpublished: $(tb_exec alice dig +noall +comments \
		@"$(tb_addr4 dc)" hub.example.net A | grep -o 'status: [A-Z]*')"
fi

say "a Relay Server; carol (symmetric NAT) and dave (router without input firewall) join"
rs=$(tb_bin rs/ntm-rs)
tb_public_host relay
"$ctl" genkey >"$TB_DIR/relay.key"
cat >"$TB_DIR/relay.conf" <<CONF
[RS]
PrivateKeyFile = $TB_DIR/relay.key
Listen = $(tb_addr4 relay):7100, [$(tb_addr6 relay)]:7100

[DC]
Endpoint = $(tb_addr4 dc):7000, [$(tb_addr6 dc)]:7000
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc.key")
CONF
"$ctl" -s "$TB_DIR/dc.sock" enroll --relay relay1 "$("$ctl" pubkey <"$TB_DIR/relay.key")"
tb_spawn relay ntm-rs "$rs" -f -c "$TB_DIR/relay.conf" -s "$TB_DIR/relay.sock"
relay_up() { "$ctl" -s "$TB_DIR/dc.sock" relays | grep -q relay1; }
tb_wait_for 10 relay_up || echo "the relay did not register (see the logs)"
for h in carol dave; do
	"$ctl" genkey >"$TB_DIR/$h.key"
	"$ctl" -s "$TB_DIR/dc.sock" enroll "$h.example.net" "$("$ctl" pubkey <"$TB_DIR/$h.key")" >/dev/null
	cat >"$TB_DIR/$h-dc.conf" <<CONF
[Interface]
PrivateKeyFile = $TB_DIR/$h.key
Name = $h.example.net

[DC]
Endpoint = $(tb_addr4 dc):7000, [$(tb_addr6 dc)]:7000
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc.key")
CONF
	tb_spawn "$h" "ntm-node-$h" "$node" -f -c "$TB_DIR/$h-dc.conf" -s "$TB_DIR/$h.sock"
done
classified() {
	"$ctl" -s "$TB_DIR/$1.sock" --json status | grep -q '"nat": *"e[di]m"'
}
for h in carol dave; do
	tb_wait_for 10 classified "$h" || echo "$h has no NAT class yet (see the logs)"
done
tb_wait_for 10 classified alice-dc || true
echo "the relay as the DC sees it, and the NAT classes it measured from its two endpoints:"
"$ctl" -s "$TB_DIR/dc.sock" relays
"$ctl" -s "$TB_DIR/dc.sock" nodes

say "a name lookup on alice builds the tunnel: ping dave.example.net (both NATs map endpoint-independently: punched)"
mkdir -p "/etc/netns/$(tb_ns alice)"
tb_on_exit "rm -rf '/etc/netns/$(tb_ns alice)'; rmdir /etc/netns 2>/dev/null || true"
echo "nameserver 100.80.0.1" >"/etc/netns/$(tb_ns alice)/resolv.conf"
tb_exec alice getent hosts dave.example.net || echo "the stub did not answer (see the logs)"
tb_exec alice ping -n -c 3 -i 0.2 -W 5 -q dave.example.net | tail -n 2

say "alice -> carol: a symmetric NAT maps per destination, so the DC hands both a relay session"
tb_exec alice "$ctl" -s "$TB_DIR/alice-dc.sock" resolve carol.example.net | tee "$TB_DIR/carol.out"
carol_vip=$(cut -d' ' -f2 "$TB_DIR/carol.out")
[ -n "$carol_vip" ] && tb_exec alice ping -c 3 -i 0.2 -W 5 -q "$carol_vip" | tail -n 2
echo "alice's peers (path, NAT classes, relay):"
"$ctl" -s "$TB_DIR/alice-dc.sock" peers

say "a recipe: alice's temperature sensor switches carol's fan, device to device over the overlay"
agent=$(tb_bin recipe/agent/ntm-agent)
cat >"$TB_DIR/recipes" <<TXT
recipe "cool-down"
  when alice.example.net/temperature > 28
  do carol.example.net/fan on
TXT
cat "$TB_DIR/recipes"
agent_conf() { # NAME NODE_SOCKET SENSOR_OR_ACTION POINT TYPE
	printf '[Agent]\nName = %s.example.net\nListen = 0.0.0.0:5683\n' "$1"
	printf 'Database = %s\nRecipes = %s\n' "$TB_DIR/agent-$1.db" "$TB_DIR/recipes"
	printf 'NodeSocket = %s\nPollInterval = 100\nActionDeadline = 120\n' "$2"
	printf '[%s]\nName = %s\nType = %s\nDriver = simulated\n' "$3" "$4" "$5"
	printf 'State = %s\n' "$TB_DIR/$1.$4"
}
echo 20 >"$TB_DIR/alice.temperature"
echo false >"$TB_DIR/carol.fan"
agent_conf alice "$TB_DIR/alice-dc.sock" Sensor temperature number >"$TB_DIR/agent-alice.conf"
agent_conf carol "$TB_DIR/carol.sock" Action fan boolean >"$TB_DIR/agent-carol.conf"
for h in alice carol; do
	tb_spawn "$h" "agent-$h" "$agent" -f -c "$TB_DIR/agent-$h.conf" -s "$TB_DIR/agent-$h.sock"
	tb_wait_for 10 grep -q ready "$(tb_log "agent-$h")" || echo "agent $h did not start"
done
echo "alice's temperature rises to 31"
echo 31 >"$TB_DIR/alice.temperature.new" && mv "$TB_DIR/alice.temperature.new" "$TB_DIR/alice.temperature"
acked() { grep -q "cool-down/1/0 on carol.example.net/fan: acknowledged" "$(tb_log agent-alice)"; }
tb_wait_for 20 acked || echo "no acknowledgement (see the logs)"
echo "carol's fan is now: $(cat "$TB_DIR/carol.fan")"
grep -h "cool-down/1/0" "$(tb_log agent-alice)" "$(tb_log agent-carol)" | sed 's/^/  /'

say "done"
