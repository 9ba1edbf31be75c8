#!/usr/bin/env bash
# tests/style/tidy.sh SOURCE_DIR BUILD_DIR — ctest style.tidy: clang-tidy with the
# checked-in .clang-tidy (bugprone, cert, clang-analyzer, performance; every
# finding an error) over lib/ server/ client/ proto/ through the build's
# compile_commands.json, two files at a time. Exits 77 (ctest: skipped) when
# clang-tidy is missing (deploy/packages.txt).
set -euo pipefail
src="${1:?usage: tidy.sh SOURCE_DIR BUILD_DIR}"
build="${2:?usage: tidy.sh SOURCE_DIR BUILD_DIR}"
tidy=""
for t in clang-tidy-14 clang-tidy; do
	if command -v "$t" >/dev/null 2>&1; then
		tidy="$t"
		break
	fi
done
if [ -z "$tidy" ]; then
	echo "style.tidy: skipped: clang-tidy is missing (apt-get install clang-tidy)"
	exit 77
fi
db="$build/style-tidy"
python3 "$src/tests/style/compdb.py" "$src" "$build" "$db"
"$tidy" --version | sed -n 2p
mapfile -t files < <(python3 -c 'import json, sys
for e in json.load(open(sys.argv[1])): print(e["file"])' "$db/compile_commands.json")
# two at a time (two cores); run-clang-tidy when present, xargs otherwise
rc=0
if command -v run-clang-tidy-14 >/dev/null 2>&1 && [ "$tidy" = clang-tidy-14 ]; then
	run-clang-tidy-14 -clang-tidy-binary "$(command -v "$tidy")" -p "$db" -j2 -quiet \
		"${files[@]}" || rc=$?
else
	printf '%s\0' "${files[@]}" | xargs -0 -n1 -P2 "$tidy" -p "$db" --quiet || rc=$?
fi
if [ "$rc" -ne 0 ]; then
	echo "style.tidy: FAILED: fix the findings above; a false positive gets" \
		"NOLINT(check) with its reason, a check unfit for the code goes off in" \
		".clang-tidy with its reason (docs/style.md)" >&2
	exit 1
fi
echo "style.tidy: ${#files[@]} files, no findings"
