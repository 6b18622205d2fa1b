#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The durable outbox and the command driver of ntm-agent (DESIGN "Recipes":
# "a message for a sleeping device waits for it within a TTL"). Two agents
# on a veth pair; A reads its temperature with a program, B switches its
# power with a program (which logs every run, so "exactly once" is counted
# from what really ran). Checks:
#  - a firing runs B's program once; B answers after the program ends
#    (separate CoAP response) and A logs the program's result; a stock
#    client repeating a key while the program runs is told 5.03 "in
#    progress" and later gets the stored result (with coap-client-notls);
#  - B is stopped, a trigger fires, the request waits in A's outbox (also
#    across a restart of A: reloaded from SQLite), B comes back within the
#    TTL and the action runs exactly once;
#  - with a short TTL ([Peer] ActionDeadline = 3) and B away, A reports the
#    failure in its log and as "expired: 1" in `ntmctl -s SOCKET status`,
#    and the action never runs, also after B is back;
#  - a sensor program that fails or hangs is reported (stderr's first line)
#    or killed at its Timeout, and counted.
#
# Needs: root.
set -eu
. "$(dirname "$0")/lib.sh"

fail() {
	echo "agent_outbox.sh: FAIL: $*" >&2
	exit 1
}

tb_init
AGENT=$(tb_bin recipe/agent/ntm-agent)
NTMCTL=$(tb_bin ntmctl/ntmctl)
D=$TB_DIR

cat >"$D/recipes" <<EOF
recipe "cool-down"
  when a.example.net/temperature > 28
  do b.example.net/power on
EOF

# The sensor program of A: the number in a file, or a failure on demand.
cat >"$D/thermo" <<EOF
#!/bin/sh
case "\$(cat $D/a.temp)" in
fail) echo "i2c bus 1: no device at 0x48" >&2; exit 2 ;;
hang) exec sleep 30 ;;
esac
cat $D/a.temp
EOF
# The action program of B: logs the run (key and value), takes a moment, acts.
cat >"$D/switch" <<EOF
#!/bin/sh
echo "\$NTM_KEY \$1" >>$D/b.runs
sleep 0.5
echo "\$1" >$D/b.power
echo "switched \$1"
EOF
chmod 0755 "$D/thermo" "$D/switch"
: >"$D/b.runs"

setv() {
	printf '%s\n' "$2" >"$1.new"
	mv "$1.new" "$1"
}

# conf_a TTL: A's configuration; TTL is the [Peer]'s ActionDeadline.
conf_a() {
	cat >"$D/a.conf" <<EOF
[Agent]
Name = a.example.net
Listen = 10.202.0.1:5683
Database = $D/a.db
Recipes = $D/recipes
PollInterval = 100
[Sensor]
Name = temperature
Type = number
Driver = command
Program = $D/thermo
Timeout = 1
[Peer]
Device = b.example.net
Address = 10.202.0.2
ActionDeadline = $1
EOF
}

cat >"$D/b.conf" <<EOF
[Agent]
Name = b.example.net
Listen = 10.202.0.2:5683
Database = $D/b.db
Recipes = $D/recipes
[Action]
Name = power
Type = boolean
Driver = command
Program = $D/switch
Timeout = 10
[Peer]
Device = a.example.net
Address = 10.202.0.1
EOF

# start NODE LOGNAME: sets PID_<NODE>.
start() {
	tb_spawn "$1" "$2" "$AGENT" -c "$D/$1.conf" -s "$D/$1.sock" -f
	eval "PID_$1=$TB_PID"
	tb_wait_for 10 grep -q "ready" "$(tb_log "$2")" || fail "agent $1 ($2) did not start"
}

stop() {
	local pid
	pid=$(eval echo "\$PID_$1")
	tb_kill "$pid"
}

# runs SEQ: how often B's program ran for firing SEQ.
runs() {
	grep -c "^a.example.net/cool-down/$1/0 true\$" "$D/b.runs" || true
}

# ctl CMD: A's control socket's answer to CMD, as JSON.
ctl() {
	"$NTMCTL" -s "$D/a.sock" --json "$1"
}

# status_is NAME VALUE: a line of `ntmctl status` on A.
status_is() {
	"$NTMCTL" -s "$D/a.sock" status | grep -qx "$1: $2"
}

tb_node a
tb_node b
tb_link a b
tb__ip a addr add 10.202.0.1/24 dev "$TB_LINK_IFA"
tb__ip b addr add 10.202.0.2/24 dev "$TB_LINK_IFB"
setv "$D/a.temp" 20
conf_a 120
start a agent-a
start b agent-b
LA=$(tb_log agent-a)
LB=$(tb_log agent-b)

# ---------------------------------------------------------------- command driver
sleep 0.5
setv "$D/a.temp" 30
tb_wait_for 20 grep -q "cool-down/1/0 on b.example.net/power: acknowledged 2.04.*switched true" \
	"$LA" || fail "no acknowledgement with the program's result"
[ "$(runs 1)" = 1 ] || fail "firing 1 ran $(runs 1) times"
grep -q "cool-down/1/0 from a.example.net on b.example.net/power: started $D/switch" "$LB" ||
	fail "B did not log the program's start"
status_is acknowledged 1 || fail "status: $("$NTMCTL" -s "$D/a.sock" status)"

# The same key again while the program runs: "in progress", and it runs once.
if command -v coap-client-notls >/dev/null; then
	post() {
		tb_exec a timeout 30 coap-client-notls -m post -t json \
			-e '{"key":"manual-1","value":true}' coap://10.202.0.2/power 2>&1
	}
	post >"$D/post1" &
	P1=$!
	sleep 0.2
	r=$(post)
	wait "$P1"
	[ "$r" = "5.03 in progress: the program is still running" ] ||
		fail "a repeated key during the run gave '$r'"
	[ "$(cat "$D/post1")" = "switched true" ] || fail "the first POST gave '$(cat "$D/post1")'"
	r=$(post)
	[ "$r" = "switched true" ] || fail "the key after the run gave '$r'"
	[ "$(grep -c '^manual-1 true$' "$D/b.runs")" = 1 ] || fail "manual-1 ran more than once"
else
	[ "${CI:-}" = true ] && fail "coap-client-notls missing (libcoap3-bin)"
	echo "agent_outbox.sh: coap-client-notls missing, 'in progress' not checked" >&2
fi

# ---------------------------------------------------------------- B away, A restarts
setv "$D/a.temp" 20
sleep 0.5
stop b
setv "$D/a.temp" 31
tb_wait_for 20 grep -q "recipe cool-down fired (seq 2)" "$LA" || fail "second firing missing"
tb_wait_for 20 status_is outbox 1 || fail "the request is not in the outbox"
ctl outbox | jq -e '.[] | select(.key == "a.example.net/cool-down/2/0")' >/dev/null ||
	fail "outbox does not list the request: $(ctl outbox)"
ctl recipes | jq -e '.[] | select(.name == "cool-down" and .triggered_here == true)' >/dev/null ||
	fail "recipes: $(ctl recipes)"
"$NTMCTL" -s "$D/a.sock" help | grep -q outbox || fail "help does not list outbox"
sleep 2
[ "$(runs 2)" = 0 ] || fail "firing 2 ran while B was stopped"
# The trigger is false again before A restarts, so nothing new fires.
setv "$D/a.temp" 20
sleep 0.5
stop a
start a agent-a2
LA2=$(tb_log agent-a2)
grep -q "cool-down/2/0 on b.example.net/power: reloaded from the outbox" "$LA2" ||
	fail "A did not reload the request"
status_is reloaded 1 || fail "reloaded not counted"
start b agent-b2
tb_wait_for 90 grep -q "cool-down/2/0 on b.example.net/power: acknowledged" "$LA2" ||
	fail "the waiting request was not delivered when B came back"
[ "$(runs 2)" = 1 ] || fail "firing 2 ran $(runs 2) times"
tb_wait_for 5 status_is outbox 0 || fail "the outbox is not empty after the acknowledgement"
sleep 2
[ "$(runs 2)" = 1 ] || fail "firing 2 ran again: $(runs 2) times"

# ---------------------------------------------------------------- short TTL, B away
stop a
conf_a 3
start a agent-a3
LA3=$(tb_log agent-a3)
stop b
sleep 0.5
setv "$D/a.temp" 32
tb_wait_for 20 grep -q \
	"cool-down/3/0 on b.example.net/power: failed: not acknowledged within its TTL of 3 s" \
	"$LA3" || fail "the expiry was not reported"
status_is expired 1 || fail "expired not counted: $("$NTMCTL" -s "$D/a.sock" status)"
status_is outbox 0 || fail "the expired request is still queued"
start b agent-b3
sleep 3
[ "$(runs 3)" = 0 ] || fail "an expired request ran"

# ---------------------------------------------------------------- failing sensor programs
setv "$D/a.temp" fail
tb_wait_for 10 grep -q \
	"temperature: read failed: $D/thermo: exited with status 2: i2c bus 1: no device at 0x48" \
	"$LA3" || fail "a failing sensor program was not reported with its stderr"
setv "$D/a.temp" hang
tb_wait_for 10 grep -q "temperature: read failed: $D/thermo: timed out after 1000 ms, killed" \
	"$LA3" || fail "a hanging sensor program was not killed"
status_is command_timeouts 0 && fail "timeouts not counted"
setv "$D/a.temp" 20
echo "agent_outbox.sh: ok (a waiting request delivered once after A and B restarted;" \
	"TTL expiry reported and counted; sensor program failures reported)"
