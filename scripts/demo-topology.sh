#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo topology, run from a build directory by scripts/demo: a small
# Internet in network namespaces with home routers of each NAT kind and hosts
# behind them, probed with real traffic, an ntm-node tunnel from behind a
# NAT to a public hub, and a Direction Coordinator that alice registers at
# (her VIPs come from it) and through which she builds a tunnel to the hub
# by name; a Relay Server; carol behind the symmetric NAT and dave behind
# the router without an input firewall join, and the DC picks each pair's
# path (punched, relayed) and the demo says why; alice's DNS stub turns a
# name lookup into a tunnel; a second domain (example.org, its own DC, an
# unbound resolver delegating each domain to its DC) federates with the
# first and alice pings erin.example.org by name; and a recipe, registered
# at a recipe server on the hub and delivered to alice's and carol's agents,
# switches carol's fan over the relayed tunnel. Everything is removed on
# exit. Federation and the "why" lines need unbound and jq, the recipe
# server curl and jq (without them: skipped, the recipe read from a file).
set -eu
. "$(dirname "$0")/../tests/netns/lib.sh"

say() { printf '\n== %s\n' "$*"; }

# why SOCKET FQDN...: for each peer of the node at SOCKET, the path in use,
# both ends' NAT classes, the path rule that explains it and why the last
# direct attempt failed (ntmctl --json peers, made readable).
why() {
	local sock=$1 name vip line path dcpath nat pnat rs fail
	shift
	for name in "$@"; do
		vip=$("$ctl" -s "$sock" --json resolve "$name" | jq -r .vip4) || true
		line=$("$ctl" -s "$sock" --json peers | jq -r --arg v "$vip/32" '.[] |
			select(.allowed_ips | index($v)) | [.path, .dc_path // "-", .nat // "-",
			.peer_nat // "-", .rs // "-", .last_direct_failure // "none"] | join("|")') || true
		IFS='|' read -r path dcpath nat pnat rs fail <<<"$line"
		[ "$fail" != none ] || [ "$path" != relay ] ||
			fail="none (the DC chose the relay: no direct attempt was made)"
		printf '  %-18s VIP %s, path %s, NATs: this end %s, peer %s\n' \
			"$name" "$vip" "$path" "$nat" "$pnat"
		printf '  %-18s why: %s\n' "" "$(path_rule "$path" "$rs")"
		[ "$dcpath" = "$path" ] || printf '  %-18s the DC chose %s\n' "" "$dcpath"
		printf '  %-18s last direct failure: %s\n' "" "$fail"
	done
}
path_rule() { # PATH RS: the design's path rule behind PATH
	case "$1" in
	direct) echo "one end is public: the other end connects out to it" ;;
	punched) echo "both NATs map endpoint-independently: simultaneous hole punching" ;;
	same-nat) echo "both ends sit behind one NAT: private addresses" ;;
	relay) echo "an endpoint-dependent NAT maps per destination, no punch can work: relayed via $2" ;;
	*) echo "no path yet" ;;
	esac
}

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
# Federation (shown later) needs a recursive resolver that delegates each
# domain to its DC, and the DC's [Federation] section from the start.
fed=
if command -v unbound >/dev/null && command -v jq >/dev/null; then
	fed=1
	tb_public_host resolver
	"$ctl" genkey >"$TB_DIR/dc2.key"
	tb_resolv dc "$(tb_addr4 resolver)"
fi
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
[ -z "$fed" ] || cat >>"$TB_DIR/dc.conf" <<CONF

[Federation]
Domain = example.org
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc2.key")
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
tb_resolv alice 100.80.0.1
tb_exec alice getent hosts dave.example.net || echo "the stub did not answer (see the logs)"
tb_exec alice ping -n -c 3 -i 0.2 -W 5 -q dave.example.net | tail -n 2

say "alice -> carol: a symmetric NAT maps per destination, so the DC hands both a relay session"
tb_exec alice "$ctl" -s "$TB_DIR/alice-dc.sock" resolve carol.example.net | tee "$TB_DIR/carol.out"
carol_vip=$(cut -d' ' -f2 "$TB_DIR/carol.out")
[ -n "$carol_vip" ] && tb_exec alice ping -c 3 -i 0.2 -W 5 -q "$carol_vip" | tail -n 2
echo "alice's peers (path, NAT classes, relay):"
"$ctl" -s "$TB_DIR/alice-dc.sock" peers
if command -v jq >/dev/null; then
	say "why one pair is direct and the other relayed (alice's view, from ntmctl --json peers)"
	why "$TB_DIR/alice-dc.sock" dave.example.net carol.example.net
fi

if [ -n "$fed" ]; then
	say "federation: example.org has its own DC; alice pings erin.example.org by name"
	tb_public_host dc2
	tb_public_host erin
	{
		printf 'server:\n\tinterface: %s\n\tport: 53\n' "$(tb_addr4 resolver)"
		printf '\taccess-control: 0.0.0.0/0 allow\n\tusername: ""\n\tchroot: ""\n'
		printf '\tdirectory: "%s"\n\tpidfile: "%s/unbound.pid"\n' "$TB_DIR" "$TB_DIR"
		printf '\tuse-syslog: no\n\tlogfile: ""\n\tmodule-config: "iterator"\n'
		printf '\tdo-not-query-localhost: no\n'
		printf 'stub-zone:\n\tname: "example.net"\n\tstub-addr: %s\n' "$(tb_addr4 dc)"
		printf 'stub-zone:\n\tname: "example.org"\n\tstub-addr: %s\n' "$(tb_addr4 dc2)"
	} >"$TB_DIR/unbound.conf"
	tb_spawn resolver unbound unbound -d -c "$TB_DIR/unbound.conf"
	tb_wait_listen resolver udp 53
	cat >"$TB_DIR/dc2.conf" <<CONF
[DC]
Domain = example.org
PrivateKeyFile = $TB_DIR/dc2.key
Listen = $(tb_addr4 dc2):7000
AltListen = $(tb_addr4 dc2):7001
Pool4 = 100.81.0.0/16
Pool6 = fd80:2::/64
Database = $TB_DIR/dc2.db

[DNS]
Listen = $(tb_addr4 dc2):53

[Federation]
Domain = example.net
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc.key")
Allow = alice.example.net -> erin.example.org
CONF
	sed -n '/Federation/,$p' "$TB_DIR/dc2.conf" | sed 's/^/  dc2.conf: /'
	tb_resolv dc2 "$(tb_addr4 resolver)"
	tb_spawn dc2 ntm-dc2 "$dc" -f -c "$TB_DIR/dc2.conf" -s "$TB_DIR/dc2.sock"
	tb_wait_for 10 "$ctl" -s "$TB_DIR/dc2.sock" nodes >/dev/null
	"$ctl" genkey >"$TB_DIR/erin.key"
	"$ctl" -s "$TB_DIR/dc2.sock" enroll erin.example.org \
		"$("$ctl" pubkey <"$TB_DIR/erin.key")" >/dev/null
	cat >"$TB_DIR/erin.conf" <<CONF
[Interface]
PrivateKeyFile = $TB_DIR/erin.key
Name = erin.example.org

[DC]
Endpoint = $(tb_addr4 dc2):7000
PublicKey = $("$ctl" pubkey <"$TB_DIR/dc2.key")
CONF
	tb_spawn erin ntm-node-erin "$node" -f -c "$TB_DIR/erin.conf" -s "$TB_DIR/erin.sock"
	erin_registered() {
		"$ctl" -s "$TB_DIR/erin.sock" --json status | grep -q '"state": *"registered"'
	}
	tb_wait_for 10 erin_registered || echo "erin did not register (see the logs)"
	echo "the resolver finds example.org's DC: $(tb_exec alice dig +short \
		@"$(tb_addr4 resolver)" _ntm._udp.example.org SRV)"
	echo "alice: getent hosts erin.example.org (her stub asks her DC, which asks example.org's DC)"
	tb_exec alice getent hosts erin.example.org || echo "the stub did not answer (see the logs)"
	tb_exec alice ping -n -c 3 -i 0.2 -W 5 -q erin.example.org | tail -n 2
	why "$TB_DIR/alice-dc.sock" erin.example.org
	grep -ho "federation: session with the DC of example.org.*" "$(tb_log ntm-dc)" |
		head -n 1 | sed 's/^/  example.net'"'"'s DC: /'
fi

say "a recipe: alice's temperature sensor switches carol's fan, device to device over the overlay"
agent=$(tb_bin recipe/agent/ntm-agent)
cat >"$TB_DIR/recipes" <<TXT
recipe "cool-down"
  when alice.example.net/temperature > 28
  do carol.example.net/fan on
TXT
cat "$TB_DIR/recipes"
# With curl and jq the recipe is registered at a recipe server (on the hub,
# an overlay node) and delivered to both devices over their tunnels; without
# them each agent reads it from a file.
rserver=
command -v curl >/dev/null && command -v jq >/dev/null && rserver=1
agent_conf() { # NAME NODE_SOCKET SENSOR_OR_ACTION POINT TYPE
	printf '[Agent]\nName = %s.example.net\nListen = 0.0.0.0:5683\n' "$1"
	printf 'Database = %s\n' "$TB_DIR/agent-$1.db"
	if [ -n "$rserver" ]; then
		printf 'RecipeServer = hub.example.net\n'
	else
		printf 'Recipes = %s\n' "$TB_DIR/recipes"
	fi
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
if [ -n "$rserver" ]; then
	echo "the vendor's ntm-devmgr and the ntm-recipe-server run on the hub (hub.example.net)"
	cli=$(tb_bin recipe/cli/ntm-recipe)
	hub4=$(tb_addr4 hub)
	for t in dm_admin dm_server rs_admin; do
		"$cli" gentoken >"$TB_DIR/$t"
	done
	printf '[DevMgr]\nListen = %s:8470\nDatabase = %s\nAdminTokenFile = %s\nServerTokenFile = %s\n' \
		"$hub4" "$TB_DIR/devmgr.db" "$TB_DIR/dm_admin" "$TB_DIR/dm_server" >"$TB_DIR/devmgr.conf"
	tb_spawn hub devmgr "$(tb_bin recipe/devmgr/ntm-devmgr)" -f -c "$TB_DIR/devmgr.conf"
	{
		printf '[Server]\nListen = %s:8480\nDatabase = %s\n' "$hub4" "$TB_DIR/recipe-server.db"
		printf 'AdminTokenFile = %s\nNodeSocket = %s\n' "$TB_DIR/rs_admin" "$TB_DIR/hub-dc.sock"
		printf '[DevMgr]\nVendor = acme\nURL = http://%s:8470\nTokenFile = %s\n' \
			"$hub4" "$TB_DIR/dm_server"
	} >"$TB_DIR/recipe-server.conf"
	tb_spawn hub recipe-server "$(tb_bin recipe/server/ntm-recipe-server)" -f \
		-c "$TB_DIR/recipe-server.conf"
	tb_wait_for 10 grep -q "listening on port" "$(tb_log devmgr)" || echo "no devmgr (see the logs)"
	tb_wait_for 10 grep -q "listening on port" "$(tb_log recipe-server)" ||
		echo "no recipe server (see the logs)"
	# The vendor registers its models and the two devices as manufactured.
	dmcurl() { tb_exec hub curl -sf -H "Authorization: Bearer $(cat "$TB_DIR/dm_admin")" "$@"; }
	dmcurl -o /dev/null -d '{"name":"thermo","links":"</temperature>;rt=\"temperature\""}' \
		"http://$hub4:8470/v1/models"
	dmcurl -o /dev/null -d '{"name":"fan","links":"</fan>;rt=\"fan\""}' \
		"http://$hub4:8470/v1/models"
	for d in SN-A:thermo:alice SN-B:fan:carol; do
		IFS=: read -r id model h <<<"$d"
		dmcurl -o /dev/null -d "{\"id\":\"$id\",\"model\":\"$model\",
			\"fqdn\":\"$h.example.net\",\"public_key\":\"$("$ctl" pubkey <"$TB_DIR/$h.key")\",
			\"dc_endpoint\":\"$(tb_addr4 dc):7000\",
			\"dc_key\":\"$("$ctl" pubkey <"$TB_DIR/dc.key")\",
			\"recipe_server\":\"http://hub.example.net:8480\"}" "http://$hub4:8470/v1/devices"
	done
	rcli() { tb_exec hub env NTM_RECIPE_URL="http://$hub4:8480" "$cli" "$@"; }
	rcli -t "$TB_DIR/rs_admin" user add demo >"$TB_DIR/user.token" || echo "user add failed"
	echo "the user binds both devices and registers the recipe: ntm-recipe device add, recipe add"
	rcli -t "$TB_DIR/user.token" device add SN-A | sed 's/^/  /'
	rcli -t "$TB_DIR/user.token" device add SN-B | sed 's/^/  /'
	rcli -t "$TB_DIR/user.token" recipe add "$TB_DIR/recipes" | sed 's/^/  /'
	delivered() {
		[ "$(rcli -t "$TB_DIR/user.token" recipe show cool-down | grep -c ' active$')" = 2 ]
	}
	tb_wait_for 60 delivered || echo "the recipe did not reach both devices (see the logs)"
	echo "ntm-recipe recipe show cool-down:"
	rcli -t "$TB_DIR/user.token" recipe show cool-down | sed 's/^/  /'
fi
echo "alice's temperature rises to 31"
echo 31 >"$TB_DIR/alice.temperature.new" && mv "$TB_DIR/alice.temperature.new" "$TB_DIR/alice.temperature"
acked() { grep -q "cool-down/1/0 on carol.example.net/fan: acknowledged" "$(tb_log agent-alice)"; }
tb_wait_for 20 acked || echo "no acknowledgement (see the logs)"
echo "carol's fan is now: $(cat "$TB_DIR/carol.fan")"
grep -h "cool-down/1/0" "$(tb_log agent-alice)" "$(tb_log agent-carol)" | sed 's/^/  /'

say "done"
