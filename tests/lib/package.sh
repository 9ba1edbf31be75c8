#!/usr/bin/env bash
# package.sh PREFIX — find_package(caa) from an installed PREFIX: build
# examples/check.c against caa::caa and caa::caa_static (tests/lib/consumer),
# and run both (a config that does not exist: the error path, exit 2).
set -euo pipefail
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$here/consumer" -B "$tmp" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCAA_EXAMPLES="$here/../../examples" -DCMAKE_C_FLAGS="${CFLAGS:-} -Wall -Wextra -Werror" \
	-DCMAKE_EXE_LINKER_FLAGS="${LDFLAGS:-}" >"$tmp/configure.log" ||
	{ cat "$tmp/configure.log" >&2; exit 1; }
cmake --build "$tmp" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
for p in check_shared check_static; do
	status=0
	out=$("$tmp/$p" "$tmp/none.json" example.com 2>&1) || status=$?
	if [ "$status" -ne 2 ] || ! grep -q 'none.json' <<<"$out"; then
		echo "FAIL: $p: exit $status, output: $out" >&2
		exit 1
	fi
done
# the shared one runs with PREFIX's libcaa.so (the imported target's rpath)
# (ldd's output is read whole first: `ldd | grep -q` under pipefail fails
# whenever grep's early exit sends ldd a SIGPIPE)
deps=$(ldd "$tmp/check_shared")
grep -q "$prefix/lib/libcaa.so.0" <<<"$deps" || { echo "FAIL: check_shared does not load $prefix's libcaa" >&2; echo "$deps" >&2; exit 1; }
deps=$(ldd "$tmp/check_static")
! grep -q libcaa <<<"$deps" || { echo "FAIL: check_static loads a libcaa.so" >&2; exit 1; }
echo "find_package(caa): caa::caa and caa::caa_static build and run"
