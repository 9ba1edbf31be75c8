#!/usr/bin/env bash
# tests/style/cppcheck.sh SOURCE_DIR BUILD_DIR — ctest style.cppcheck: cppcheck
# (warning, performance, portability and its default error checks) over lib/
# server/ client/ proto/ through the build's compile_commands.json; any finding
# fails. Suppressions: tests/style/cppcheck.supp, each with its reason.
# Exits 77 (ctest: skipped) when cppcheck is missing (deploy/packages.txt).
set -euo pipefail
src="${1:?usage: cppcheck.sh SOURCE_DIR BUILD_DIR}"
build="${2:?usage: cppcheck.sh SOURCE_DIR BUILD_DIR}"
if ! command -v cppcheck >/dev/null 2>&1; then
	echo "style.cppcheck: skipped: cppcheck is missing (apt-get install cppcheck)"
	exit 77
fi
db="$build/style-cppcheck"
python3 "$src/tests/style/compdb.py" "$src" "$build" "$db"
cppcheck --version
# -j2: the machines this runs on have two cores
if ! cppcheck --project="$db/compile_commands.json" --std=c11 -j2 -q \
	--enable=warning,performance,portability --inline-suppr \
	--suppressions-list="$src/tests/style/cppcheck.supp" \
	--cppcheck-build-dir="$db" --error-exitcode=1 \
	--template='{file}:{line}: {severity}: {id}: {message}'; then
	echo "style.cppcheck: FAILED: fix the findings above, or suppress a false" \
		"positive in tests/style/cppcheck.supp with its reason (docs/style.md)" >&2
	exit 1
fi
echo "style.cppcheck: no findings"
