# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/netns/lib.sh: the network-namespace testbed of ntm (sourced by every
# integration test, the demo and the benchmarks). Bash, `set -eu` friendly;
# every public function is tb_*, internals are tb__*.
#
#   . "$(dirname "$0")/lib.sh"
#   tb_init                      # root check, run dir, trap, the Internet
#   tb_public_host s1            # 198.51.100.10, 2001:db8::10
#   tb_router r1 cone            # WAN 198.51.100.11, LAN 10.1.0.0/24 + 2001:db8:1::/64
#   tb_nat_host h1 r1            # 10.1.0.10, 2001:db8:1::10
#   tb_exec h1 ping -c1 "$(tb_addr4 s1)"
#
# Address plan (documentation ranges only; nothing touches the host's root
# namespace, which never even sees the veths: they are created inside the
# namespaces).
#   The Internet is one router, node "core": 198.51.100.254 and 2001:db8::ffff
#   on its lo. Every public attachment (public host, router WAN) is its own
#   access link to the core, so two public nodes are always one routed hop
#   apart and the core decrements the TTL, as the Internet does (a probe
#   with TTL 2 opens the sender's NAT mapping but dies in the core, which a
#   flat bridge could not show).
#   k-th public attachment (k = 0, 1, ...): 198.51.100.(10+k)/32 and
#   2001:db8::(10+k)/128 (the decimal number written as the last group), with
#   "default via 198.51.100.254 onlink" and "default via fe80::1" (the core's
#   link-local address on every access link).
#   Router N (N = 1, 2, ... in creation order): WAN interface "wan" is a
#   public attachment; LAN bridge "lan" is 10.N.0.1/24 and 2001:db8:N::1/64;
#   IPv6 is routed, not NATed (the core routes 2001:db8:N::/64 to the WAN).
#   j-th host on router N's LAN (j = 0, 1, ...): 10.N.0.(10+j)/24 and
#   2001:db8:N::(10+j)/64, gateways 10.N.0.1 and 2001:db8:N::1.
#   tb_link adds no addresses; use 10.200.0.0/16 or 2001:db8:ff::/48 there.
#   IPv6 DAD is off everywhere (accept_dad=0, nodad), router advertisements
#   are ignored: an address is usable as soon as it is added.
#
# Interface names: a node's uplinks are eth0, eth1, ... (a router's is
# "wan"); the far end of an uplink is NODE_IF (e.g. "h1_eth0" on the core or
# on the router's LAN bridge); tb_link A B names them "to_B" in A and "to_A"
# in B. Node names: 1-8 characters [a-z0-9], not "core".
#
# Delay and loss convention (tb_link, --delay/--loss of hosts and routers):
# both are ONE-WAY and apply to each direction independently, like netem on
# both ends: ping RTT = 2 x delay, ping loss = 1 - (1 - loss)^2. A link with
# any of delay/loss/jitter (even "delay 0") runs through linkemu in a "wire"
# namespace (SCHED_FIFO, so a busy machine does not add delay; offloads off
# on the four veth ends, so delay and loss apply per wire-sized frame);
# otherwise it is a plain veth pair.
#
# Processes: tb_spawn runs a background process in a node, logs to the run
# directory and records it. tb_cleanup (the EXIT trap) stops every process
# that lives in one of the run's namespaces (SIGTERM, then SIGKILL after a
# bounded wait), deletes the namespaces and the run directory, and prints
# the logs' tails when the test failed. Set TB_KEEP=1 to keep the directory.
#
# Binaries: tb_bin NAME finds NAME (e.g. linkemu, udpprobe) in
# $TB_BUILDDIR/tests/netns, where TB_BUILDDIR defaults to the current
# directory when it holds a build (automake runs tests from the top build
# directory; by hand: `cd BUILDDIR && sudo SRCDIR/tests/netns/testbed.sh`),
# else to the source tree (in-tree build).
#
# Extending: tb_node makes a bare namespace; tb_attach_public / tb_attach_lan
# give an existing node another uplink (multi-homing); tb_detach removes one
# (mobility = detach + attach elsewhere, the address changes).

TB__LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB__SRCDIR=$(cd "$TB__LIBDIR/../.." && pwd)
TB_DIR=
TB_ID=
TB_PID=
TB_LINK_IFA=
TB_LINK_IFB=
TB__STOP_WAIT_S=3
TB__CLEANED=

# ------------------------------------------------------------------ basics

tb__die() {
	echo "lib.sh: $*" >&2
	return 1
}

# A setup step failed: the test cannot go on. Exits (the trap cleans up), so
# it works the same whether or not the caller runs under set -e.
tb__fail() {
	echo "lib.sh: $*" >&2
	exit 1
}

# Exit 77 (automake SKIP), or 1 under CI=true where skipping is a failure.
tb__skip() {
	echo "SKIP: $*" >&2
	if [ "${CI:-}" = true ]; then
		echo "CI=true: a skipped namespace test is a failure" >&2
		exit 1
	fi
	exit 77
}

# Key-value state in files, so that it survives subshells ($(...)).
tb__set() {
	printf '%s\n' "$3" >"$TB_DIR/kv/$1.$2"
}

tb__get() {
	[ -f "$TB_DIR/kv/$1.$2" ] || tb__die "no $2 for '$1'" || return 1
	cat "$TB_DIR/kv/$1.$2"
}

tb__has() {
	[ -f "$TB_DIR/kv/$1.$2" ]
}

# Prints counter NAME and increments it (first value 0).
tb__next() {
	local f="$TB_DIR/kv/counter.$1" n=0
	[ -f "$f" ] && n=$(cat "$f")
	echo $((n + 1)) >"$f"
	echo "$n"
}

tb__check_name() {
	case "$1" in
	core | "" | *[!a-z0-9]*) tb__fail "bad node name '$1' (1-8 of [a-z0-9], not core)" ;;
	?????????*) tb__fail "node name '$1' longer than 8" ;;
	*) return 0 ;;
	esac
}

# Real namespace name of node NAME.
tb_ns() {
	tb__get "$1" ns
}

tb_exec() {
	local ns
	ns=$(tb_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# ip -n for node NAME; a setup step, so failure ends the test.
tb__ip() {
	local ns
	ns=$(tb_ns "$1") || tb__fail "no node '$1'"
	shift
	ip -n "$ns" "$@" || tb__fail "ip -n $ns $* failed"
}

tb__sysctl() {
	local n=$1
	shift
	tb_exec "$n" sysctl -q -w "$@" >/dev/null || tb__fail "sysctl in $n: $* failed"
}

# Path of a built program: a testbed helper by name (linkemu, udpprobe) or
# any program by its path in the build tree (endnode/ntm-node).
tb_bin() {
	local d rel=$1
	case "$rel" in
	*/*) ;;
	*) rel=tests/netns/$rel ;;
	esac
	for d in "${TB_BUILDDIR:-}" "$PWD" "$TB__SRCDIR"; do
		if [ -n "$d" ] && [ -x "$d/$rel" ]; then
			echo "$d/$rel"
			return 0
		fi
	done
	tb__die "$1 not built (run make, or set TB_BUILDDIR)"
}

# ------------------------------------------------------------------ run setup

tb_init() {
	[ "$(id -u)" = 0 ] || tb__skip "not root"
	local t
	for t in ip nft sysctl awk; do
		command -v "$t" >/dev/null || tb__skip "$t not installed"
	done
	TB_ID=$$
	TB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ntm-tb.$TB_ID.XXXXXX")
	mkdir "$TB_DIR/kv" "$TB_DIR/log"
	: >"$TB_DIR/netns"
	: >"$TB_DIR/pids"
	: >"$TB_DIR/on_exit"
	trap tb_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if ! ip netns add "tb$TB_ID-core" 2>"$TB_DIR/log/netns-add.log"; then
		cat "$TB_DIR/log/netns-add.log" >&2
		tb__skip "ip netns add failed"
	fi
	echo "tb$TB_ID-core" >>"$TB_DIR/netns"
	tb__set core ns "tb$TB_ID-core"
	tb__ns_setup core 1
	tb__ip core addr add 198.51.100.254/32 dev lo
	tb__ip core addr add 2001:db8::ffff/128 dev lo nodad
}

# Runs CMD... (a string for eval) first thing in tb_cleanup.
tb_on_exit() {
	printf '%s\n' "$*" >>"$TB_DIR/on_exit"
}

# tb_resolv HOST NAMESERVER: the resolv.conf HOST's processes see (ip netns
# exec bind-mounts /etc/netns/NS/*); removed on exit.
tb_resolv() {
	local ns
	ns=$(tb_ns "$1")
	mkdir -p "/etc/netns/$ns"
	tb_on_exit "rm -rf '/etc/netns/$ns'; rmdir /etc/netns 2>/dev/null || true"
	echo "nameserver $2" >"/etc/netns/$ns/resolv.conf"
	chmod 644 "/etc/netns/$ns/resolv.conf"
}

# Sysctls of a fresh namespace: no DAD, no RA, forwarding if $2 = 1.
tb__ns_setup() {
	tb__ip "$1" link set dev lo up
	tb__sysctl "$1" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv4.ip_forward="$2" net.ipv6.conf.all.forwarding="$2"
}

# A bare node: a namespace with lo up.
tb_node() {
	tb__check_name "$1"
	tb__node_new "$1"
}

# Wires are nodes too, named _wK (a name tb_node refuses, so no clash).
tb__node_new() {
	! tb__has "$1" ns || tb__fail "node '$1' exists"
	local ns="tb$TB_ID-$1"
	ip netns add "$ns" || tb__fail "ip netns add $ns failed"
	echo "$ns" >>"$TB_DIR/netns"
	tb__set "$1" ns "$ns"
	tb__ns_setup "$1" 0
}

# ------------------------------------------------------------------ processes

# tb_spawn NAME LOGNAME cmd...: background process in node NAME, output in
# the run's log directory. Sets TB_PID (a child of the calling shell, so
# `wait "$TB_PID"` returns its status when called from the same shell).
tb_spawn() {
	local ns log
	ns=$(tb_ns "$1") || return 1
	log="$TB_DIR/log/$2.log"
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	TB_PID=$!
	echo "$TB_PID $log" >>"$TB_DIR/pids"
}

# Path of the log file of LOGNAME.
tb_log() {
	echo "$TB_DIR/log/$1.log"
}

# True when PID lives in one of this run's namespaces. Guards every kill
# against PID reuse: we never signal a process outside our namespaces.
tb__is_ours() {
	local ns
	ns=$(ip netns identify "$1" 2>/dev/null) || return 1
	[ -n "$ns" ] && grep -qxF "$ns" "$TB_DIR/netns"
}

# Waits until none of PIDS... exists; bounded by TB__STOP_WAIT_S.
tb__wait_gone() {
	local i p alive
	for ((i = 0; i < TB__STOP_WAIT_S * 20; i++)); do
		alive=
		for p in "$@"; do
			! kill -0 "$p" 2>/dev/null || alive=1
		done
		[ -n "$alive" ] || return 0
		sleep 0.05
	done
	return 1
}

# tb_kill PID: SIGTERM, then SIGKILL after a bounded wait; reaps our child.
tb_kill() {
	tb__is_ours "$1" || { wait "$1" 2>/dev/null || true; return 0; }
	kill -TERM "$1" 2>/dev/null || true
	tb__wait_gone "$1" || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# tb_wait_for TIMEOUT_S cmd...: polls cmd every 50 ms; 1 on timeout.
tb_wait_for() {
	local n i
	n=$(awk -v t="$1" 'BEGIN { printf "%d", t * 20 }')
	shift
	for ((i = 0; i <= n; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# tb_wait_listen NAME udp|tcp PORT [TIMEOUT_S]: a socket is bound to PORT.
tb_wait_listen() {
	local opt=-Hlun
	[ "$2" = tcp ] && opt=-Hltn
	tb_wait_for "${4:-5}" tb__listening "$1" "$opt" "$3"
}

tb__listening() {
	[ -n "$(tb_exec "$1" ss "$2" "sport = :$3")" ]
}

# Prints the last N (default 20) lines of every log of the run to stderr.
tb_log_tail() {
	local f
	for f in "$TB_DIR"/log/*.log; do
		[ -s "$f" ] || continue
		echo "---- ${f##*/} (last ${1:-20} lines)" >&2
		tail -n "${1:-20}" "$f" >&2
	done
}

tb__stop_all() {
	local ns pids="" p
	while read -r ns; do
		[ -n "$ns" ] && pids="$pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
	done <"$TB_DIR/netns"
	[ -n "${pids// /}" ] || return 0
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	# shellcheck disable=SC2086
	tb__wait_gone $pids && return 0
	for p in $pids; do tb__is_ours "$p" && kill -KILL "$p" 2>/dev/null; done
	return 0
}

# The EXIT trap. Idempotent; safe after a partial setup.
tb_cleanup() {
	local rc=$? ns cmd p
	[ -n "$TB_DIR" ] && [ -d "$TB_DIR" ] && [ -z "$TB__CLEANED" ] || return "$rc"
	TB__CLEANED=1
	trap - EXIT INT TERM
	set +e
	while read -r cmd; do eval "$cmd"; done <"$TB_DIR/on_exit"
	: >"$TB_DIR/on_exit"
	tb__stop_all
	while read -r p _; do wait "$p" 2>/dev/null; done <"$TB_DIR/pids"
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		echo "testbed: exit status $rc, logs in $TB_DIR" >&2
		tb_log_tail 20
	fi
	while read -r ns; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done <"$TB_DIR/netns"
	: >"$TB_DIR/netns"
	if [ -z "${TB_KEEP:-}" ]; then
		rm -rf "$TB_DIR"
		TB_DIR=
	fi
	return "$rc"
}

# ------------------------------------------------------------------ links

# tb__opts ARGS...: sets TB__DELAY TB__LOSS TB__JITTER TB__FAMILY (4, 6, 46)
# from "--delay MS" or "delay MS", "--loss PCT", "--jitter MS", --v4-only,
# --v6-only.
tb__opts() {
	TB__DELAY='' TB__LOSS='' TB__JITTER='' TB__FAMILY=46
	while [ $# -gt 0 ]; do
		case "$1" in
		--delay | delay) TB__DELAY=${2:?delay needs MS} && shift ;;
		--loss | loss) TB__LOSS=${2:?loss needs PCT} && shift ;;
		--jitter | jitter) TB__JITTER=${2:?jitter needs MS} && shift ;;
		--v4-only) TB__FAMILY=4 ;;
		--v6-only) TB__FAMILY=6 ;;
		*) tb__fail "unknown option '$1'" ;;
		esac
		shift
	done
}

tb__offload_off() {
	tb_exec "$1" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 ||
		tb_exec "$1" ethtool -K "$2" tx off tso off gso off >/dev/null 2>&1
}

# tb__wire A IFA B IFB: connects node A (interface IFA) to node B (IFB),
# through linkemu when any of TB__DELAY/TB__LOSS/TB__JITTER is set. Leaves
# the ends down. Sets TB__WIRE to the wire node name ("" for a plain veth).
tb__wire() {
	TB__WIRE=
	if [ -z "$TB__DELAY$TB__LOSS$TB__JITTER" ]; then
		tb__ip "$1" link add name "$2" type veth peer name "$4" netns "$(tb_ns "$3")"
		return
	fi
	command -v ethtool >/dev/null || tb__skip "ethtool not installed (needed for linkemu)"
	local w args bin
	bin=$(tb_bin linkemu) || tb__fail "linkemu not found"
	w="_w$(tb__next wire)"
	tb__node_new "$w"
	tb__sysctl "$w" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	tb__ip "$1" link add name "$2" type veth peer name a netns "$(tb_ns "$w")"
	tb__ip "$3" link add name "$4" type veth peer name b netns "$(tb_ns "$w")"
	if ! { tb__offload_off "$1" "$2" && tb__offload_off "$3" "$4" &&
		tb__offload_off "$w" a && tb__offload_off "$w" b; }; then
		tb__fail "ethtool -K failed"
	fi
	tb__ip "$w" link set dev a up
	tb__ip "$w" link set dev b up
	args="--delay ${TB__DELAY:-0} --loss ${TB__LOSS:-0} --jitter ${TB__JITTER:-0} --realtime"
	# shellcheck disable=SC2086
	tb_spawn "$w" "linkemu$w" "$bin" a b $args
	tb__set "$w" pid "$TB_PID"
	tb_wait_for 5 grep -q '^ready' "$(tb_log "linkemu$w")" ||
		tb__fail "linkemu in $w did not start"
	TB__WIRE=$w
}

# tb_link A B [delay MS] [loss PCT] [jitter MS]: a point-to-point link
# between two existing nodes, up, without addresses. Interfaces: TB_LINK_IFA
# (in A, "to_B") and TB_LINK_IFB (in B, "to_A").
tb_link() {
	local a=$1 b=$2
	shift 2
	tb__opts "$@"
	TB_LINK_IFA="to_$b" TB_LINK_IFB="to_$a"
	tb__wire "$a" "$TB_LINK_IFA" "$b" "$TB_LINK_IFB"
	tb__ip "$a" link set dev "$TB_LINK_IFA" up
	tb__ip "$b" link set dev "$TB_LINK_IFB" up
}

# ------------------------------------------------------------------ attachments

# Disables IPv6 on IF of NAME before it comes up (an IPv4-only uplink has
# no link-local address and no IPv6 route).
tb__v6_off() {
	tb__sysctl "$1" "net.ipv6.conf.$2.disable_ipv6=1"
}

# tb__uplink NAME IF FAMILY ADDR4/LEN GW4 ADDR6/LEN GW6 (with TB__* options
# already parsed): configures NAME's side of an uplink and records it.
tb__uplink() {
	local n=$1 ifc=$2 metric
	metric=$((100 + 10 * $(tb__next "if.$n")))
	[ "$3" != 4 ] || tb__v6_off "$n" "$ifc"
	tb__ip "$n" link set dev "$ifc" up
	if [ "$3" != 6 ]; then
		tb__ip "$n" addr add "$4" dev "$ifc"
		tb__ip "$n" route add default via "$5" dev "$ifc" onlink metric "$metric"
		tb__set "$n.$ifc" addr4 "${4%/*}"
	fi
	if [ "$3" != 4 ]; then
		tb__ip "$n" addr add "$6" dev "$ifc" nodad
		tb__ip "$n" -6 route add default via "$7" dev "$ifc" metric "$metric"
		tb__set "$n.$ifc" addr6 "${6%/*}"
	fi
	tb__set "$n.$ifc" wire "$TB__WIRE"
	echo "$ifc" >>"$TB_DIR/kv/$n.ifaces"
}

tb__next_ifname() {
	echo "eth$(tb__next "eth.$1")"
}

# tb_attach_public NAME [IF] [--v4-only|--v6-only] [--delay MS] [--loss PCT]:
# a new access link from node NAME to the core (interface IF, default the
# next ethN), with the next public addresses.
tb_attach_public() {
	local n=$1 ifc k port
	shift
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		ifc=$1 && shift
	else
		ifc=$(tb__next_ifname "$n")
	fi
	tb__opts "$@"
	k=$(tb__next public)
	[ "$k" -lt 240 ] || tb__fail "public address plan exhausted"
	port="${n}_$ifc"
	tb__wire core "$port" "$n" "$ifc"
	tb__ip core link set dev "$port" up
	if [ "$TB__FAMILY" != 6 ]; then
		tb__ip core route add "198.51.100.$((10 + k))/32" dev "$port"
	fi
	if [ "$TB__FAMILY" != 4 ]; then
		tb__ip core addr add fe80::1/64 dev "$port" nodad
		tb__ip core -6 route add "2001:db8::$((10 + k))/128" dev "$port"
	fi
	tb__uplink "$n" "$ifc" "$TB__FAMILY" "198.51.100.$((10 + k))/32" 198.51.100.254 \
		"2001:db8::$((10 + k))/128" fe80::1
}

# tb_attach_lan NAME ROUTER [--v4-only|--v6-only] [--delay MS] [--loss PCT]:
# a new uplink from node NAME into ROUTER's LAN bridge.
tb_attach_lan() {
	local n=$1 r=$2 ifc j ln port
	shift 2
	tb__opts "$@"
	ln=$(tb__get "$r" lan) || tb__fail "'$r' is not a router"
	ifc=$(tb__next_ifname "$n")
	j=$(tb__next "lan.$r")
	[ "$j" -lt 240 ] || tb__fail "LAN of $r is full"
	port="${n}_$ifc"
	tb__wire "$r" "$port" "$n" "$ifc"
	tb__ip "$r" link set dev "$port" master lan up
	tb__uplink "$n" "$ifc" "$TB__FAMILY" "10.$ln.0.$((10 + j))/24" "10.$ln.0.1" \
		"2001:db8:$ln::$((10 + j))/64" "2001:db8:$ln::1"
}

# tb_detach NAME IF: removes an uplink (and its wire); the far end goes too.
tb_detach() {
	local w
	w=$(tb__get "$1.$2" wire) || tb__fail "'$1' has no uplink $2"
	tb__ip "$1" link del dev "$2"
	if [ -n "$w" ]; then
		tb_kill "$(tb__get "$w" pid)"
		ip netns del "$(tb_ns "$w")"
	fi
	rm -f "$TB_DIR/kv/$1.$2."*
	if tb__has "$1" ifaces; then
		grep -vxF "$2" "$TB_DIR/kv/$1.ifaces" >"$TB_DIR/kv/$1.ifaces.new" || true
		mv "$TB_DIR/kv/$1.ifaces.new" "$TB_DIR/kv/$1.ifaces"
	fi
}

# tb_addr4 NAME [IF] / tb_addr6 NAME [IF]: the address of uplink IF, by
# default of the oldest uplink that has one (a router's: its WAN address).
tb_addr4() {
	tb__addr "$1" addr4 "${2:-}"
}

tb_addr6() {
	tb__addr "$1" addr6 "${2:-}"
}

tb__addr() {
	local ifc
	if [ -n "$3" ]; then
		tb__get "$1.$3" "$2"
		return
	fi
	if tb__has "$1" ifaces; then
		while read -r ifc; do
			if tb__has "$1.$ifc" "$2"; then
				tb__get "$1.$ifc" "$2"
				return
			fi
		done <"$TB_DIR/kv/$1.ifaces"
	fi
	tb__die "no $2 for '$1'"
}

# ------------------------------------------------------------------ nodes

# tb_public_host NAME [--v4-only|--v6-only] [--delay MS] [--loss PCT]
tb_public_host() {
	tb_node "$1"
	tb_attach_public "$@"
}

# tb_nat_host NAME ROUTER [--v4-only|--v6-only] [--delay MS] [--loss PCT]
tb_nat_host() {
	tb_node "$1"
	tb_attach_lan "$@"
}

# The nftables ruleset of a home router. cone and symmetric filter what was
# not solicited (IPv4 to the router, IPv6 through it); open has no input
# filter, so an unsolicited datagram to the WAN address leaves a conntrack
# entry that a later mapping clashes with (DESIGN "Testbed").
tb__nat_rules() {
	local kind=$1 random=
	[ "$kind" = symmetric ] && random=" fully-random"
	cat <<EOF
table inet tb_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan" ct state established,related accept
		iifname "wan" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
EOF
	[ "$kind" = open ] || echo '		iifname "wan" drop'
	cat <<EOF
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		iifname "wan" drop
	}
}
table ip tb_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade$random
	}
}
EOF
}

# tb_router NAME cone|symmetric|open [--delay MS] [--loss PCT]
tb_router() {
	local n=$1 kind=$2 ln
	case "$kind" in
	cone | symmetric | open) ;;
	*) tb__fail "router kind '$kind': cone, symmetric or open" ;;
	esac
	shift 2
	tb_node "$n"
	ln=$(($(tb__next router) + 1))
	[ "$ln" -lt 250 ] || tb__fail "too many routers"
	tb__sysctl "$n" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	tb_attach_public "$n" wan "$@"
	tb__ip "$n" link add lan type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	tb__ip "$n" link set dev lan up
	tb__ip "$n" addr add "10.$ln.0.1/24" dev lan
	tb__ip "$n" addr add "2001:db8:$ln::1/64" dev lan nodad
	tb__ip core -6 route add "2001:db8:$ln::/64" via "$(tb_addr6 "$n")"
	tb__nat_rules "$kind" >"$TB_DIR/$n.nft"
	tb_exec "$n" nft -f "$TB_DIR/$n.nft" || tb__fail "nft rules of $n failed"
	tb__set "$n" lan "$ln"
	tb__set "$n" kind "$kind"
}
