#!/usr/bin/env bash
# install.sh BUILD PREFIX — `cmake --install BUILD --prefix PREFIX` into an empty
# PREFIX, then check what an embedder gets there: the libraries (libcaa.so with
# its SONAME, libcaa.a), exactly the public headers (none of lib/*.h), caa.pc,
# the CMake package, the programs; and that <caa/caa.h> compiles from PREFIX alone.
set -euo pipefail
build=$1
prefix=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

for f in lib/libcaa.a lib/libcaa.so lib/libcaa.so.0 lib/pkgconfig/caa.pc \
	lib/cmake/caa/caaConfig.cmake lib/cmake/caa/caaConfigVersion.cmake \
	lib/cmake/caa/caaTargets.cmake include/caa/caa.h include/caa/version.h bin/caa; do
	[ -e "$prefix/$f" ] || fail "$f not installed"
done
if [ -x "$build/server/caad" ]; then
	[ -x "$prefix/sbin/caad" ] || fail "caad not installed to sbin"
fi
soname=$(objdump -p "$prefix/lib/libcaa.so" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libcaa.so.0 ] || fail "SONAME is '$soname', not libcaa.so.0"

# the public headers are include/caa/*.h (and the generated version.h), nothing else
want=$( (cd "$src/include/caa" && ls *.h; echo version.h) | sort)
got=$(cd "$prefix/include/caa" && ls | sort)
[ "$want" = "$got" ] || fail "installed headers differ from include/caa: $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
for h in "$src"/lib/*.h; do
	[ ! -e "$prefix/include/caa/$(basename "$h")" ] || fail "internal $(basename "$h") installed"
done
[ ! -e "$prefix/include/caa/version.h.in" ] || fail "version.h.in installed"

# each public header on its own, and the umbrella, from PREFIX alone, strictly
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in "$prefix"/include/caa/*.h; do
	printf '#include <caa/%s>\ntypedef int nonempty;\n' "$(basename "$h")" >"$tmp/t.c"
	"$cc" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$tmp/t.c" ||
		fail "<caa/$(basename "$h")> does not compile on its own"
done
echo "installed to $prefix: $(find "$prefix" -type f | wc -l) files"
