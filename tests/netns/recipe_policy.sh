#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The run-time safety policy with a reading of ANOTHER device (issue 9,
# DESIGN "Recipes", sekisho): three devices, each an ntm-node plus an
# ntm-agent with NodeSocket, and a DC: a (a button) behind a cone NAT, b (a
# window, with its own policy) and p (a presence sensor), public. b's
# policy is
#
#   forbid b.example.net/window when p.example.net/state == absent
#
# so before it opens the window b fetches p's state over the overlay
# (coap://p.example.net/state). b's window is a program that logs every
# run, so "acted" is counted from what really ran. Checks:
#  - p present: a's button fires, b reads p, opens the window, a logs the
#    acknowledgement;
#  - p's state changes to absent (after the recipes were loaded): the
#    firing is refused by b at run time, the program does not run, a logs
#    the refusal with b's reason;
#  - p's agent stopped (its reading cannot be fetched): refused, fail
#    closed, well within a bound, with "policy: cannot read
#    p.example.net/state" in the reason; nothing runs;
#  - a table (not pass/fail): fired -> acknowledged at a for an action
#    without a remote rule and one with it, RECIPE_POLICY_RUNS each;
#  - p silent (nftables drops CoAP arriving at p through the tunnel): b
#    refuses at its PolicyFetchTimeout, "cannot read ...: timeout".
#
# Needs: root, jq, nft.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ntm.sh"

RUNS=${RECIPE_POLICY_RUNS:-20}

fail() {
	echo "recipe_policy.sh: FAIL: $*" >&2
	for l in agent-a agent-b agent-p; do
		echo "---- $l" >&2
		tail -n 30 "$(tb_log "$l")" >&2 2>/dev/null || true
	done
	exit 1
}

tb_init
ntm_need jq nft
DCBIN=$(tb_bin dc/ntm-dc)
NODE=$(tb_bin endnode/ntm-node)
NTMCTL=$(tb_bin ntmctl/ntmctl)
AGENT=$(tb_bin recipe/agent/ntm-agent)
D=$TB_DIR

tb_public_host dc
tb_router r1 cone
tb_nat_host a r1
tb_public_host b
tb_public_host p
DC4=$(tb_addr4 dc)

umask 077
ntm_keys "$D" dc a b p
ntm_dc_config "$D/dc.key" "$DC4" "$(tb_addr6 dc)" "$D/state/dc.db" 5 >"$D/dc.conf"
ntm_dc_start 1 "$DCBIN" "$D/dc.conf" "$D/dc.sock" || fail "ntm-dc did not start"
is_registered() { [ "$("$NTMCTL" -s "$D/$1.sock" --json status | jq -r .dc.state)" = registered ]; }
for n in a b p; do
	"$NTMCTL" -s "$D/dc.sock" enroll "$n.example.net" "$(cat "$D/$n.pub")" >/dev/null
	printf '[Interface]\nPrivateKeyFile = %s\nName = %s.example.net\n\n[DC]\nEndpoint = %s:7000\nPublicKey = %s\n' \
		"$D/$n.key" "$n" "$DC4" "$(cat "$D/dc.pub")" >"$D/$n.conf"
	tb_spawn "$n" "node_$n" "$NODE" -f -c "$D/$n.conf" -i ntm0 -s "$D/$n.sock"
done
for n in a b p; do
	tb_wait_for 15 is_registered "$n" || fail "$n did not register"
done

# ---------------------------------------------------------------- agents
cat >"$D/recipes" <<EOF
recipe "open-window"
  when a.example.net/button == true
  do b.example.net/window on

recipe "bench-plain"
  when a.example.net/tick == true
  do b.example.net/fan on

recipe "bench-remote"
  when a.example.net/tock == true
  do b.example.net/vent on
EOF
cat >"$D/policy" <<EOF
forbid b.example.net/window when p.example.net/state == absent
forbid b.example.net/vent when p.example.net/state == absent
EOF
cat >"$D/window.sh" <<EOF
#!/bin/sh
echo "\$NTM_KEY \$1" >>$D/window.runs
echo "window \$1"
EOF
chmod 755 "$D/window.sh"
: >"$D/window.runs"
{
	printf '[Agent]\nName = a.example.net\nListen = 0.0.0.0:5683\nDatabase = %s\n' "$D/agent-a.db"
	printf 'Recipes = %s\nNodeSocket = %s\nPollInterval = 20\n' "$D/recipes" "$D/a.sock"
	for s in button tick tock; do
		printf '[Sensor]\nName = %s\nType = boolean\nDriver = simulated\nState = %s\n' \
			"$s" "$D/$s"
	done
} >"$D/agent-a.conf"
{
	printf '[Agent]\nName = b.example.net\nListen = 0.0.0.0:5683\nDatabase = %s\n' "$D/agent-b.db"
	printf 'Recipes = %s\nPolicy = %s\nNodeSocket = %s\nPollInterval = 20\n' \
		"$D/recipes" "$D/policy" "$D/b.sock"
	printf 'PolicyFetchTimeout = 2000\n'
	printf '[Action]\nName = window\nType = boolean\nDriver = command\nProgram = %s\nTimeout = 5\n' \
		"$D/window.sh"
	for s in fan vent; do
		printf '[Action]\nName = %s\nType = boolean\nDriver = simulated\nState = %s\n' \
			"$s" "$D/$s"
	done
} >"$D/agent-b.conf"
{
	printf '[Agent]\nName = p.example.net\nListen = 0.0.0.0:5683\nDatabase = %s\n' "$D/agent-p.db"
	printf 'NodeSocket = %s\nPollInterval = 20\n' "$D/p.sock"
	printf '[Sensor]\nName = state\nType = enum\nValues = present, absent\n'
	printf 'Driver = simulated\nState = %s\n' "$D/p.state"
} >"$D/agent-p.conf"
setv() {
	printf '%s\n' "$2" >"$1.new"
	mv "$1.new" "$1"
}
for s in button tick tock fan vent; do
	setv "$D/$s" false
done
setv "$D/p.state" present
start_agent() { # HOST
	tb_spawn "$1" "agent-$1" "$AGENT" -f -v -c "$D/agent-$1.conf" -s "$D/agent-$1.sock"
	eval "PID_$1=\$TB_PID"
	tb_wait_for 20 grep -q ' ready: ' "$(tb_log "agent-$1")" || fail "agent $1 did not start"
}
for n in p b a; do
	start_agent $n
done
LA=$(tb_log agent-a)
LB=$(tb_log agent-b)

# answers RECIPE: how many of its firings a has an answer for.
answers() {
	grep -cE "/$1/[0-9]+/0 on b\.example\.net/[a-z]+: (acknowledged|refused|failed)" "$LA" || true
}
# fire SENSOR RECIPE: one rising edge, then wait for its answer at a.
fire() {
	local n
	n=$(answers "$2")
	setv "$D/$1" false
	sleep 0.1
	setv "$D/$1" true
	tb_wait_for 60 sh -c "[ \$(grep -cE '/$2/[0-9]+/0 on b\\.example\\.net/[a-z]+: (acknowledged|refused|failed)' '$LA') -gt $n ]" ||
		fail "firing of $2 got no answer"
}
# last RECIPE: a's last answer line for it.
last() { grep -E "/$1/[0-9]+/0 on b\.example\.net/" "$LA" | grep -E ': (acknowledged|refused|failed)' | tail -n 1; }
runs() { wc -l <"$D/window.runs"; }

# ---------------------------------------------------------------- p present: acted
fire button open-window
last open-window | grep -q "acknowledged" || fail "not acknowledged with p present: $(last open-window)"
[ "$(runs)" = 1 ] || fail "the window program ran $(runs) times, wanted 1"
echo "# p present: $(last open-window | sed 's/.*: acknowledged/acknowledged/')"

# ---------------------------------------------------------------- p absent: refused at run time
setv "$D/p.state" absent
sleep 0.3 # p's agent polls its state every 20 ms
fire button open-window
l=$(last open-window)
echo "$l" | grep -q "refused by the device (4.03).*forbidden now by policy line 1" ||
	fail "not refused with p absent: $l"
[ "$(runs)" = 1 ] || fail "the window program ran while p was absent"
echo "# p absent: ${l#*refused}"

# ---------------------------------------------------------------- p unreachable: fail closed
setv "$D/p.state" present
sleep 0.3
fire button open-window
last open-window | grep -q "acknowledged" || fail "not acknowledged with p present again"
[ "$(runs)" = 2 ] || fail "the window program ran $(runs) times, wanted 2"
tb_kill "$PID_p"
t0=$(date +%s%N)
fire button open-window
t1=$(date +%s%N)
l=$(last open-window)
echo "$l" | grep -qE "refused by the device \(4\.03\): refused: policy: cannot read p\.example\.net/state: (timeout|unreachable)" ||
	fail "not refused with p unreachable: $l"
[ "$(runs)" = 2 ] || fail "the window program ran while p was unreachable"
grep -qE "policy: cannot read p\.example\.net/state: (timeout|unreachable)" "$LB" ||
	fail "b did not log why"
ms=$(((t1 - t0) / 1000000))
echo "# p unreachable: refused after ${ms} ms (fire to answer seen, PolicyFetchTimeout 2000 ms):${l#*refused by the device (4.03):}"
[ "$ms" -lt 15000 ] || fail "the fail-closed refusal took $ms ms"

# ---------------------------------------------------------------- latency table (not pass/fail)
start_agent p
sleep 0.5
for _ in $(seq 1 "$RUNS"); do
	fire tick bench-plain
	fire tock bench-remote
done
# lat RECIPE: fired -> acknowledged at a in us, one line per acknowledged firing.
lat() {
	grep -oE "timing: a\.example\.net/$1/[0-9]+/0 (fired|acknowledged) at [0-9]+" "$LA" |
		awk '{ k = $2; t = $NF } $3 == "fired" { f[k] = t } $3 == "acknowledged" && (k in f) { print t - f[k] }'
}
lat bench-plain >"$D/plain"
lat bench-remote >"$D/remote"
[ "$(wc -l <"$D/remote")" -ge "$RUNS" ] || fail "only $(wc -l <"$D/remote") remote-rule firings acknowledged"
stats() { sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END { printf "%d %.2f %.2f %.2f %.2f", NR, v[int((NR + 1) / 2)] / 1000, v[1] / 1000, s / NR / 1000, v[NR] / 1000 }'; }
grep -oE "timing: a\.example\.net/bench-remote/[0-9]+/0 policy inputs after [0-9]+" "$LB" |
	awk '{ print $NF }' >"$D/fetch"
read -r n1 med1 min1 avg1 max1 <<<"$(stats "$D/plain")"
read -r n2 med2 min2 avg2 max2 <<<"$(stats "$D/remote")"
read -r n3 med3 min3 avg3 max3 <<<"$(stats "$D/fetch")"
echo "# run-time policy check, fired -> acknowledged at a (ms), a (cone NAT) -> b, p public:"
printf '# %-34s %5s %8s %8s %8s %8s\n' "action" runs median min avg max
printf '# %-34s %5s %8s %8s %8s %8s\n' "no remote rule (b/fan)" "$n1" "$med1" "$min1" "$avg1" "$max1"
printf '# %-34s %5s %8s %8s %8s %8s\n' "reads p.example.net/state (b/vent)" "$n2" "$med2" "$min2" "$avg2" "$max2"
printf '# %-34s %5s %8s %8s %8s %8s\n' "  of which: the fetch, at b" "$n3" "$med3" "$min3" "$avg3" "$max3"
echo "# difference of the medians: $(awk -v a="$med1" -v b="$med2" 'BEGIN { printf "%.2f ms", b - a }')"
# ---------------------------------------------------------------- p silent: refused at the timeout
cat >"$D/silent.nft" <<EOF
table inet tb_silent {
	chain input {
		type filter hook input priority filter - 10; policy accept;
		iifname "ntm0" udp dport 5683 counter drop
	}
}
EOF
tb_exec p nft -f "$D/silent.nft" || fail "nft rule on p"
t0=$(date +%s%N)
fire button open-window
t1=$(date +%s%N)
l=$(last open-window)
echo "$l" | grep -qE "refused by the device \(4\.03\): refused: policy: cannot read p\.example\.net/state: timeout" ||
	fail "not refused at the timeout with p silent: $l"
[ "$(runs)" = 2 ] || fail "the window program ran while p was silent"
ms=$(((t1 - t0) / 1000000))
echo "# p silent: refused after ${ms} ms (fire to answer seen, PolicyFetchTimeout 2000 ms)"
[ "$ms" -ge 2000 ] || fail "refused after $ms ms, before the PolicyFetchTimeout"
[ "$ms" -lt 15000 ] || fail "the timeout refusal took $ms ms"
tb_exec p nft delete table inet tb_silent
echo "recipe_policy.sh: ok"
