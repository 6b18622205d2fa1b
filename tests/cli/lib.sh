# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/cli/lib.sh: what the command-line tests share. Source it, define
# cli_on_exit (stop the daemons you started, by PID) if you start any, then
# call cli_init NAME. Checks record failures and go on; cli_finish reports.
#
#   cli_init NAME                 $tmp (removed on exit), trap, umask 077
#   fail MESSAGE                  count a failure
#   expect_exit CODE WHAT -- CMD  run CMD, stdout/stderr in $tmp/out, $tmp/err
#   expect_stderr WHAT TEXT       $tmp/err contains TEXT
#   expect_stdout WHAT LINE       $tmp/out has the line LINE
#   as_nobody CMD...              run as uid/gid 65534 (setpriv)
#   cli_finish NAME [LOG]         exit 1 with the count (and LOG) or 0

cli_cleanup() {
	if declare -F cli_on_exit > /dev/null; then
		cli_on_exit
	fi
	rm -rf "$tmp"
}

cli_init() {
	umask 077
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1-test.XXXXXX")
	failures=0
	trap cli_cleanup EXIT
}

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

expect_exit() {
	local want=$1 what=$2 got
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$what: exit $got, want $want (stderr: $(cat "$tmp/err"))"
		return 1
	fi
	return 0
}

expect_stderr() {
	grep -qF -- "$2" "$tmp/err" || fail "$1: stderr lacks '$2' (got: $(cat "$tmp/err"))"
}

expect_stdout() {
	grep -qxF -- "$2" "$tmp/out" || fail "$1: stdout lacks the line '$2' (got: $(cat "$tmp/out"))"
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

cli_finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures failure(s)" >&2
		[ -n "${2:-}" ] && cat "$2" >&2
		exit 1
	fi
	echo "$1: all checks passed"
	exit 0
}
