# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/netns/ntm.sh: ntm-specific helpers for the namespace tests, on top of
# lib.sh (which knows nothing of ntm). Source after lib.sh.

# ntm_dc_config KEYFILE ADDR4 ADDR6 DATABASE KEEPALIVE: prints an ntm-dc.conf
# for domain example.net listening on ADDR4:7000 and [ADDR6]:7000, with
# AltListen ADDR4:7001 (NAT classification) and the pools 100.80.0.0/16 and
# fd80:1::/64.
ntm_dc_config() {
	cat <<EOF
[DC]
Domain = example.net
PrivateKeyFile = $1
Listen = $2:7000, [$3]:7000
AltListen = $2:7001
Pool4 = 100.80.0.0/16
Pool6 = fd80:1::/64
Database = $4
KeepaliveInterval = $5
EOF
}

# ntm_domain_dc_conf DIR NAME DOMAIN POOL4 [TEXT]: prints an ntm-dc.conf for
# the DC of DOMAIN on host NAME (its key DIR/NAME.key, its database under
# DIR/state): control on :7000 and :7001 (NAT classification), DNS on :53,
# no Pool6 (the DC's random default), then TEXT ([Federation] sections).
ntm_domain_dc_conf() {
	local a4
	a4=$(tb_addr4 "$2")
	mkdir -p "$1/state"
	cat <<EOF
[DC]
Domain = $3
PrivateKeyFile = $1/$2.key
Listen = $a4:7000
AltListen = $a4:7001
Pool4 = $4
Database = $1/state/$2.db
KeepaliveInterval = 5
[DNS]
Listen = $a4:53
${5:-}
EOF
}

# ntm_dc_start RUN DCBIN CONF SOCK: starts ntm-dc in node "dc" (its log is
# "dcRUN"), sets DC_PID, and waits until the control socket answers.
ntm_dc_start() {
	local ctl
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	tb_spawn dc "dc$1" "$2" -f -v -c "$3" -s "$4"
	DC_PID=$TB_PID
	tb_wait_for 10 "$ctl" -s "$4" nodes
}

# ntm_need TOOL...: skips the test (exit 77) when a TOOL is not installed;
# with CI=true a missing TOOL is a failure instead (the script's own fail()).
ntm_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { [ "${CI:-}" = true ] && fail "$t missing"; exit 77; }
	done
}

# ntm_keys DIR NAME...: writes a fresh private key DIR/NAME.key and its
# public key DIR/NAME.pub for every NAME (run under umask 077).
ntm_keys() {
	local ctl d=$1 k
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	shift
	for k in "$@"; do
		"$ctl" genkey >"$d/$k.key" || return 1
		"$ctl" pubkey <"$d/$k.key" >"$d/$k.pub" || return 1
	done
}

# ntm_node_conf KEYFILE NAME ENDPOINT DCPUB: prints an ntm-node.conf for
# NAME.example.net with only [Interface] (the private key in KEYFILE) and a
# [DC] section for the DC at ENDPOINT (ADDR:PORT) with public key DCPUB.
# Callers append further sections or keys after it.
ntm_node_conf() {
	printf '[Interface]\nPrivateKeyFile = %s\nName = %s.example.net\n\n' "$1" "$2"
	printf '[DC]\nEndpoint = %s\nPublicKey = %s\n' "$3" "$4"
}

# ntm_transfer FROM TO ADDR SIZE: a TCP transfer of SIZE random bytes (head -c
# syntax: 4M) from node FROM to ADDR:5001, a listener in node TO (its log is
# "recv_FROMTO"); calls the script's fail() unless both ends see the same
# sha256. Uses $D/blob and $D/recv.sum.
ntm_transfer() {
	local from=$1 to=$2 addr=$3 sent recv
	head -c "$4" /dev/urandom >"$D/blob"
	sent=$(sha256sum <"$D/blob" | cut -d' ' -f1)
	tb_spawn "$to" "recv_$from$to" sh -c "socat -u TCP4-LISTEN:5001,reuseaddr - | sha256sum >'$D/recv.sum'"
	recv=$TB_PID
	tb_wait_listen "$to" tcp 5001 || fail "$to: no listener"
	tb_exec "$from" timeout 60 socat -u "OPEN:$D/blob,rdonly" "TCP4:$addr:5001" ||
		fail "$from -> $to: transfer"
	wait "$recv" || fail "$to: receiver"
	[ "$sent" = "$(cut -d' ' -f1 "$D/recv.sum")" ] || fail "$from -> $to: sha256 differs"
}

# ntm_node_start DIR NAME ENDPOINT DCPUB [NODEOPT...]: enrolls NAME.example.net
# (key DIR/NAME.key) at the DC whose control socket is DIR/dc.sock, writes
# DIR/NAME.conf (ntm_node_conf) and starts ntm-node NODEOPT... (default -f
# -v) in node NAME with TUN ntm0 and control socket DIR/NAME.sock (its log
# is "node_NAME"); sets PID_NAME. Does not wait for the registration.
ntm_node_start() {
	local ctl node d=$1 n=$2 ep=$3 pub=$4
	shift 4
	[ $# -gt 0 ] || set -- -f -v
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	node=$(tb_bin endnode/ntm-node) || return 1
	"$ctl" -s "$d/dc.sock" enroll "$n.example.net" "$("$ctl" pubkey <"$d/$n.key")" >/dev/null ||
		return 1
	ntm_node_conf "$d/$n.key" "$n" "$ep" "$pub" >"$d/$n.conf"
	tb_spawn "$n" "node_$n" "$node" "$@" -c "$d/$n.conf" -i ntm0 -s "$d/$n.sock"
	printf -v "PID_$n" %s "$TB_PID"
}

# ntm_public_dc KEEPALIVE NAME...: the common start of a DC test with public
# nodes: creates the public hosts "dc" and every NAME, sets umask 077 for the
# rest of the script, writes the keys of dc and every NAME (ntm_keys) and
# the DC's config $TB_DIR/dc.conf (ntm_dc_config, database
# $TB_DIR/state/dc.db, KeepaliveInterval KEEPALIVE). Sets DC4, DC6, DCPUB
# and DCSOCK (the DC's control socket, for ntm_dc_start).
# shellcheck disable=SC2034 # DCPUB and DCSOCK are for the sourcing script
ntm_public_dc() {
	local ka=$1 n
	shift
	tb_public_host dc || return 1
	for n in "$@"; do
		tb_public_host "$n" || return 1
	done
	DC4=$(tb_addr4 dc)
	DC6=$(tb_addr6 dc)
	umask 077
	ntm_keys "$TB_DIR" dc "$@" || return 1
	DCPUB=$(cat "$TB_DIR/dc.pub")
	ntm_dc_config "$TB_DIR/dc.key" "$DC4" "$DC6" "$TB_DIR/state/dc.db" "$ka" >"$TB_DIR/dc.conf"
	DCSOCK=$TB_DIR/dc.sock
}

# ntm_rs_start NAME LISTEN DCENDPOINT DCPUB RSOPT...: writes $TB_DIR/NAME.conf
# for a relay with key $TB_DIR/NAME.key listening on LISTEN (the RS Listen
# value) under the DC at DCENDPOINT (its Endpoint value) with public key
# DCPUB, enrols it as relay NAME at the DC ($TB_DIR/dc.sock) and starts
# ntm-rs RSOPT... in node NAME (its log is "NAME", its control socket
# $TB_DIR/NAME.sock). Sets TB_PID. Wait for it with ntm_relays_are.
ntm_rs_start() {
	local ctl rs d=$TB_DIR n=$1
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	rs=$(tb_bin rs/ntm-rs) || return 1
	ntm_rs_conf "$d/$n.key" "$2" "$3" "$4" >"$d/$n.conf"
	"$ctl" -s "$d/dc.sock" enroll --relay "$n" "$("$ctl" pubkey <"$d/$n.key")" >/dev/null ||
		return 1
	shift 4
	tb_spawn "$n" "$n" "$rs" "$@" -c "$d/$n.conf" -s "$d/$n.sock"
}

# ntm_relays_are N: true when the DC ($TB_DIR/dc.sock) lists exactly N relays.
ntm_relays_are() {
	local ctl
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	[ "$("$ctl" -s "$TB_DIR/dc.sock" --json relays | jq length)" = "$1" ]
}

# ntm_node_json NAME FIELD: prints FIELD (a jq path below a node, e.g. vip4)
# of NAME.example.net in the node list of the DC ($TB_DIR/dc.sock).
ntm_node_json() {
	local ctl
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	"$ctl" -s "$TB_DIR/dc.sock" --json nodes |
		jq -r --arg f "$1.example.net" ".[] | select(.fqdn == \$f) | .$2"
}

# ntm_peer_field NODE PEER FIELD: FIELD of PEER (its key TB_DIR/PEER.key) in
# NODE's `ntmctl --json peers` (NODE's socket TB_DIR/NODE.sock); empty when
# NODE does not know PEER.
ntm_peer_field() {
	local ctl key
	ctl=$(tb_bin ntmctl/ntmctl) || return 1
	key=$("$ctl" pubkey <"$TB_DIR/$2.key") || return 1
	"$ctl" -s "$TB_DIR/$1.sock" --json peers |
		jq -r --arg k "$key" ".[] | select(.public_key == \$k) | .$3"
}

# ntm_rs_conf KEYFILE LISTEN DCENDPOINT DCPUB: prints an ntm-rs.conf: the
# relay's private key in KEYFILE, Listen = LISTEN, under the DC at DCENDPOINT
# (its Endpoint value) with public key DCPUB.
ntm_rs_conf() {
	printf '[RS]\nPrivateKeyFile = %s\nListen = %s\n[DC]\nEndpoint = %s\nPublicKey = %s\n' "$@"
}
