#!/usr/bin/env bash
# symbols.sh PREFIX — libcaa.so exports exactly what its installed headers
# declare: every function (and the one variable) declared in <caa/*.h> is a
# defined dynamic symbol of PREFIX/lib/libcaa.so, and nothing else is.
# The declarations are read from the preprocessed umbrella, lines of the
# caa/ headers only, so that the check does not trust CAA_EXPORT itself.
set -euo pipefail
prefix=$1
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# not ours: symbols the linker defines (section bounds, which the sanitizer
# tree's coverage sections add; _init/_edata/... on older binutils)
nm -D --defined-only "$prefix/lib/libcaa.so" | awk 'NF == 3 {print $3}' |
	grep -Ev '^(__start_|__stop_)|^(_init|_fini|_edata|_end|__bss_start)$' | sort -u >"$tmp/exported"

printf '#include <caa/caa.h>\n' | "$cc" -E -I"$prefix/include" -x c - >"$tmp/pp"
awk '
	/^# [0-9]+ "/ { keep = ($3 ~ /\/include\/caa\//); next }
	keep { text = text " " $0 }
	END {
		# attributes, then brace bodies (struct/enum/initialisers), innermost first
		gsub(/__attribute__ *\(\(([^()]|\([^()]*\))*\)\)/, "", text)
		while (gsub(/\{[^{}]*\}/, "", text)) ;
		n = split(text, st, ";")
		for (i = 1; i <= n; i++) {
			s = st[i]
			gsub(/[ \t]+/, " ", s); sub(/^ /, "", s)
			if (s ~ /^typedef / || s == "") continue
			if (match(s, /[A-Za-z_][A-Za-z0-9_]* *\(/)) {
				name = substr(s, RSTART, RLENGTH); sub(/ *\($/, "", name)
				print name
			} else if (s ~ /^extern /) {
				sub(/ *(\[[^]]*\])? *$/, "", s); k = split(s, w, " "); print w[k]
			}
		}
	}' "$tmp/pp" | sort -u >"$tmp/declared"

status=0
if ! diff -u "$tmp/declared" "$tmp/exported" >"$tmp/diff"; then
	echo "FAIL: libcaa.so exports differ from the public headers (- declared only, + exported only):" >&2
	grep '^[-+][^-+]' "$tmp/diff" >&2
	status=1
fi
if grep -v '^caa_' "$tmp/exported" >&2; then
	echo "FAIL: exported symbols outside the caa_ prefix (above)" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "libcaa.so exports the $(wc -l <"$tmp/exported") public symbols, no more"
exit "$status"
