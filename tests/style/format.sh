#!/usr/bin/env bash
# tests/style/format.sh SOURCE_DIR [CLANG_FORMAT] — ctest style.format: every C
# file of the repository is laid out as .clang-format says (docs/style.md).
# Lists what differs and fails; exits 77 (ctest: skipped) when clang-format is
# missing, which deploy/packages.txt prevents in CI.
set -euo pipefail
root="${1:?usage: format.sh SOURCE_DIR [CLANG_FORMAT]}"
cf="${2:-clang-format}"
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "style.format: skipped: $cf is missing (apt-get install clang-format, deploy/packages.txt)"
	exit 77
fi
cd "$root"
# A git checkout checks what is tracked; an unpacked tarball, every C file
# outside build trees.
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
	mapfile -t files < <(git ls-files -- '*.c' '*.h')
else
	mapfile -t files < <(find . -path './build*' -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
	echo "style.format: no C files found under $root" >&2
	exit 1
fi
"$cf" --version
if ! "$cf" --dry-run --Werror "${files[@]}"; then
	echo "style.format: FAILED: the files above differ from .clang-format;" \
		"fix with: clang-format -i \$(git ls-files '*.c' '*.h')" >&2
	exit 1
fi
echo "style.format: ${#files[@]} files match .clang-format"
