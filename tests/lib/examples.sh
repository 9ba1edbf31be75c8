#!/usr/bin/env bash
# examples.sh PREFIX LABDIR — build examples/check.c and examples/async.c
# against the libcaa installed in PREFIX, through pkg-config alone (as
# docs/libcaa.md tells an embedder), and run them against the DNS lab in LABDIR
# (tests/lab/run.sh brings it up and passes LABDIR last). CC and CFLAGS/LDFLAGS
# from the environment (the sanitizer tree passes its flags).
set -euo pipefail
prefix=$1
lab=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# check: libcaa alone; async: libcaa inside the program's own libevent loop
for ex in check async; do
	flags=$(pkg-config --cflags --libs caa)
	[ $ex = async ] && flags=$(pkg-config --cflags --libs caa libevent)
	# shellcheck disable=SC2086 # word splitting of the flags is meant
	"$cc" -std=c11 -Wall -Wextra -Werror ${CFLAGS:-} -o "$tmp/$ex" "$src/examples/$ex.c" \
		$flags ${LDFLAGS:-}
done
# they run with PREFIX's library, not a build tree's
export LD_LIBRARY_PATH="$prefix/lib"
deps=$(ldd "$tmp/check") # read whole: `ldd | grep -q` under pipefail fails on SIGPIPE
grep -q "$prefix/lib/libcaa.so.0" <<<"$deps" || fail "check does not load $prefix/lib/libcaa.so.0"

# run EXPECTED-STATUS EXAMPLE ARGS...: output sorted (async prints in completion order)
run() {
	local want=$1 ex=$2 status=0
	shift 2
	"$tmp/$ex" "$lab/caa.json" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
	[ "$status" -eq "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "$ex $*: exit $status, want $want"; }
	grep -v '^  ' "$tmp/out" | sort
}
expect() {
	[ "$1" = "$2" ] || fail "$(printf 'got:\n%s\nwant:\n%s' "$1" "$2")"
}

permit='issue-permit.lab PERMITTED AUTHORIZED'
wild='*.wild1.lab PERMITTED AUTHORIZED'
deny='www.issue-deny.lab FORBIDDEN NOT_AUTHORIZED'
for ex in check async; do
	expect "$(run 0 $ex issue-permit.lab)" "$permit"
	if [ $ex = check ]; then
		grep -qx "libcaa $(pkg-config --modversion caa)" "$tmp/err" || fail "check did not print caa_version()"
	fi
	expect "$(run 0 $ex issue-permit.lab '*.wild1.lab')" "$(printf '%s\n%s' "$wild" "$permit")"
	expect "$(run 1 $ex www.issue-deny.lab issue-permit.lab)" "$(printf '%s\n%s' "$permit" "$deny")"
	grep -qx '  While processing CAA for www.issue-deny.lab: CAA record for issue-deny.lab prevents issuance' "$tmp/out" ||
		fail "$ex: no problem detail for www.issue-deny.lab"
	expect "$(run 2 $ex 'bad..lab' issue-permit.lab)" "$(printf '%s\n%s' 'bad..lab error: identifier has an empty label' "$permit")"
done
echo "examples built with pkg-config against $prefix and checked against the lab"
