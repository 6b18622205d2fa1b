#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The node's DNS stub registered with a real systemd-resolved (issue 7,
# "Node DNS stub"). Nothing of the host changes: Debian's systemd-resolved
# package (the version of the installed systemd, whose libsystemd-shared it
# needs) is only unpacked into the run's directory (apt-get download, or
# $NTM_RESOLVED_DEB), and resolved runs in node a's namespace inside a
# mount namespace of its own (tmpfs on /run/systemd, a passwd with its
# user), on a private "system" bus (dbus-daemon on a socket in the run's
# directory) that ntm-node and resolvectl reach through
# DBUS_SYSTEM_BUS_ADDRESS.
#   - a (RegisterResolved = auto, [DNS] Domains = extra.test) logs that
#     resolved runs; `ntmctl status` says active; resolvectl shows on ntm0
#     the stub (100.80.0.1) as DNS server, ~extra.test and ~example.net (the
#     DC's domain) as routing-only domains, and no default route.
#   - `resolvectl query b.example.net` and `dig @127.0.0.53` (resolved's own
#     stub) answer b's VIPs: resolved -> ntm0 -> the node's stub -> tunnel;
#     ping b.example.net through nss is not needed: the VIP pings.
#   - an ordinary name asked through resolved never reaches the node's stub
#     (its query counter stays).
#   - b has no bus (a socket that does not exist): status says absent.
#   - resolved restarted with an empty /run/systemd: a sees it leave and
#     come back on the bus and registers the link again.
#   - after a stops (SIGTERM), resolved knows nothing of the link and a
#     logged the RevertLink.
#
# Needs: root, apt-get (or $NTM_RESOLVED_DEB), dpkg-deb, dbus-daemon, unshare, dig, jq.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

fail() {
	echo "resolved.sh: FAIL: $*" >&2
	exit 1
}

tb_init
ntm_need jq dig dpkg-deb dbus-daemon unshare
DCBIN=$(tb_bin dc/ntm-dc)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

"$(tb_bin endnode/ntm-node)" --help 2>&1 | grep -q RegisterResolved ||
	fail "ntm-node --help does not mention RegisterResolved"

# ------------------------------------------------ systemd-resolved, unpacked
R=$D/resolved
mkdir -p "$R/pkg"
deb=${NTM_RESOLVED_DEB:-}
if [ -z "$deb" ]; then
	ver=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null) ||
		{ [ "${CI:-}" = true ] && fail "systemd is not installed"; exit 77; }
	(cd "$R" && apt-get download -q "systemd-resolved=$ver" >"$D/log/apt-download.log" 2>&1) ||
		{ [ "${CI:-}" = true ] && fail "apt-get download systemd-resolved=$ver"; exit 77; }
	deb=$(echo "$R"/systemd-resolved_*.deb)
fi
dpkg-deb -x "$deb" "$R/pkg" || fail "dpkg-deb -x $deb"
RESOLVED=$R/pkg/lib/systemd/systemd-resolved
RESOLVECTL=$R/pkg/usr/bin/resolvectl
[ -x "$RESOLVED" ] && [ -x "$RESOLVECTL" ] || fail "no systemd-resolved in $deb"

# resolved drops to its user, which must reach the bus socket: the run's
# directory (0700 from mktemp) becomes traversable; the keys stay 0600.
chmod 0711 "$D"
mkdir -m 0755 "$R/bus"
BUS=unix:path=$R/bus/socket
cat >"$R/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
{ getent passwd; echo 'systemd-resolve:x:991:991:systemd Resolver:/:/usr/sbin/nologin'; } >"$R/passwd"
{ getent group; echo 'systemd-resolve:x:991:'; } >"$R/group"
# run.sh bus|resolved, inside `unshare -m` in a's namespace: the bus (it
# must know uid 991 too) or resolved, which gets an empty /run/systemd each
# time (no state survives a restart). The mounts vanish with the process.
cat >"$R/run.sh" <<EOF
#!/bin/sh
set -e
mount --make-rprivate /
mount --bind '$R/passwd' /etc/passwd
mount --bind '$R/group' /etc/group
[ "\$1" = bus ] && exec dbus-daemon --config-file='$R/bus.conf' --nofork --nopidfile
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
export DBUS_SYSTEM_BUS_ADDRESS='$BUS' SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=debug
exec '$RESOLVED'
EOF
chmod 0755 "$R/run.sh"

resolvectl() {
	tb_exec a env DBUS_SYSTEM_BUS_ADDRESS="$BUS" timeout 20 "$RESOLVECTL" "$@"
}

# ------------------------------------------------------------------ testbed
ntm_public_dc 5 a b || fail "testbed"
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$DCSOCK" ||
	fail "ntm-dc did not start: $(tail -5 "$(tb_log dc1)")"

# The tmpfs needs its mount point. A machine whose init is not systemd (a
# container) has systemd installed but no /run/systemd: make it, and remove it
# again at exit.
if [ ! -d /run/systemd ]; then
	mkdir /run/systemd || fail "cannot create /run/systemd"
	tb_on_exit rmdir /run/systemd
fi
tb_spawn a bus unshare -m "$R/run.sh" bus
tb_wait_for 20 test -S "$R/bus/socket" || fail "no bus: $(tail -5 "$(tb_log bus)")"
tb_spawn a resolved unshare -m "$R/run.sh" resolved
PID_resolved=$TB_PID
tb_wait_for 20 resolvectl status ||
	fail "systemd-resolved did not answer on the private bus: $(tail -5 "$(tb_log resolved)")"

node_status() {
	"$NTMCTL" -s "$D/$1.sock" --json status | jq -r "$2"
}

is() {
	[ "$(node_status "$1" "$2")" = "$3" ]
}

# a: on the private bus, with a domain of its own besides the DC's
dcctl() {
	"$NTMCTL" -s "$DCSOCK" "$@"
}
dcctl enroll a.example.net "$(cat "$D/a.pub")" >/dev/null || fail "enroll a"
{
	ntm_node_conf "$D/a.key" a "$DC4:7000" "$DCPUB"
	printf '\n[DNS]\nDomains = extra.test\nRegisterResolved = auto\n'
} >"$D/a.conf"
tb_spawn a node_a env DBUS_SYSTEM_BUS_ADDRESS="$BUS" "$(tb_bin endnode/ntm-node)" -f -v \
	-c "$D/a.conf" -i ntm0 -s "$D/a.sock"
PID_a=$TB_PID
# b: no bus at all
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$D/no-bus ntm_node_start "$D" b "$DC4:7000" "$DCPUB" ||
	fail "b did not start"
for n in a b; do
	tb_wait_for 20 is "$n" .dc.state registered ||
		fail "$n did not register: $(tail -5 "$(tb_log "node_$n")")"
done
VIP4_b=$(ntm_node_json b vip4)
VIP6_b=$(ntm_node_json b vip6)

echo "# a registers ntm0 with systemd-resolved"
tb_wait_for 20 is a .resolved.active true ||
	fail "a: resolved registration not active: $(node_status a .resolved)
$(tail -10 "$(tb_log node_a)")"
grep -q "systemd-resolved is running" "$(tb_log node_a)" || fail "a did not log that resolved runs"
[ "$(node_status a '.resolved.servers | join(",")')" = 100.80.0.1 ] ||
	fail "a: status servers $(node_status a .resolved.servers)"
[ "$(node_status a '.resolved.domains | join(",")')" = "~extra.test,~example.net" ] ||
	fail "a: status domains $(node_status a .resolved.domains)"
tb_wait_for 20 is b .resolved.state absent || fail "b: $(node_status b .resolved)"
grep -q "no system bus" "$(tb_log node_b)" || fail "b did not log the missing bus"

out=$(resolvectl dns ntm0) || fail "resolvectl dns ntm0: $out"
echo "# $out"
[[ "$out" =~ \(ntm0\):\ 100\.80\.0\.1$ ]] || fail "ntm0's DNS server is not the stub: $out"
out=$(resolvectl domain ntm0) || fail "resolvectl domain ntm0: $out"
echo "# $out"
[[ "$out" == *"~extra.test"* && "$out" == *"~example.net"* ]] ||
	fail "ntm0's routing domains: $out"
out=$(resolvectl default-route ntm0) || fail "resolvectl default-route ntm0: $out"
echo "# $out"
[[ "$out" =~ \(ntm0\):\ no$ ]] || fail "ntm0 is a default route: $out"

echo "# overlay names through resolved: resolved -> ntm0 -> the node's stub -> tunnel"
out=$(resolvectl query --cache=no b.example.net) ||
	fail "resolvectl query b.example.net: $out
$(tail -20 "$(tb_log resolved)")"
echo "$out" | sed 's/^/# /'
[[ "$out" == *"$VIP4_b"* && "$out" == *"$VIP6_b"* && "$out" == *"link: ntm0"* ]] ||
	fail "resolvectl query b.example.net: want $VIP4_b and $VIP6_b on link ntm0, got: $out"
out=$(tb_exec a dig +short +time=10 +tries=1 @127.0.0.53 b.example.net A)
[ "$out" = "$VIP4_b" ] || fail "dig @127.0.0.53 b.example.net A gave '$out', want $VIP4_b"
tb_exec a ping -c 2 -i 0.2 -W 5 "$VIP4_b" >/dev/null || fail "ping $VIP4_b"
if out=$(resolvectl query --cache=no nobody.example.net 2>&1); then
	fail "unknown overlay name resolved: $out"
fi
[[ "$out" == *"does not exist"* || "$out" == *"NXDOMAIN"* || "$out" == *"not found"* ]] ||
	fail "unknown overlay name: $out"

echo "# ordinary names do not go to the overlay"
before=$("$NTMCTL" -s "$D/a.sock" --json dns | jq .queries)
resolvectl query --cache=no www.other.test >/dev/null 2>&1 || true
tb_exec a dig +short +time=3 +tries=1 @127.0.0.53 www.other.test A >/dev/null 2>&1 || true
after=$("$NTMCTL" -s "$D/a.sock" --json dns | jq .queries)
[ "$before" = "$after" ] || fail "an ordinary name reached the node's stub ($before -> $after queries)"

echo "# resolved restarts with no saved state: a registers the link again"
tb_kill "$PID_resolved"
tb_wait_for 20 is a .resolved.state absent || fail "a: after resolved stopped: $(node_status a .resolved)"
tb_spawn a resolved2 unshare -m "$R/run.sh" resolved
tb_wait_for 20 is a .resolved.active true ||
	fail "a did not register again: $(node_status a .resolved) $(tail -5 "$(tb_log node_a)")"
grep -q "systemd-resolved appeared on the bus" "$(tb_log node_a)" || fail "a did not log the return"
out=$(resolvectl dns ntm0) || fail "resolvectl dns ntm0 (restarted): $out"
[[ "$out" =~ \(ntm0\):\ 100\.80\.0\.1$ ]] || fail "restarted resolved: ntm0's DNS server: $out"
out=$(resolvectl query --cache=no b.example.net) || fail "query after the restart: $out"
[[ "$out" == *"$VIP4_b"* ]] || fail "query after the restart: $out"

echo "# a stops: the link's configuration goes"
tb_kill "$PID_a"
grep -q "link ntm0 reverted" "$(tb_log node_a)" || fail "a did not revert the link: $(tail -5 "$(tb_log node_a)")"
out=$(resolvectl dns 2>&1) || fail "resolvectl dns: $out"
[[ "$out" != *100.80.0.1* && "$out" != *ntm0* ]] || fail "resolved still has the stub: $out"
out=$(resolvectl domain 2>&1) || fail "resolvectl domain: $out"
[[ "$out" != *example.net* ]] || fail "resolved still routes example.net: $out"
echo "resolved.sh: ok"
