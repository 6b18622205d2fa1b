#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo topology, run from a build directory by scripts/demo: a small
# Internet in network namespaces with home routers of each NAT kind and hosts
# behind them, probed with real traffic. Later layers (tunnels, the DC, the
# relay, names, recipes) extend this same topology. Everything is removed on
# exit.
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

say "done: tunnels, the Direction Coordinator, relays, names and recipes join this topology as they land"
