#!/usr/bin/env bash
# run.sh FAULTDNS COMMAND ARGS... — bring a private lab up (CAA_LAB_NET, default
# auto: the first free 127.N range), run COMMAND ARGS... LABDIR, bring the lab down by its pidfiles whatever
# happens, and return COMMAND's status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lab="$here/../../deploy/lab/caa-lab"
export CAA_FAULTDNS="$1"
shift
export CAA_LAB_NET="${CAA_LAB_NET:-auto}"
dir=$(mktemp -d /tmp/caa-labtest.XXXXXX)
cleanup() { "$lab" down "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$lab" up "$dir" >"$dir.up.log" 2>&1 || { cat "$dir.up.log" >&2; rm -f "$dir.up.log"; exit 1; }
rm -f "$dir.up.log"
cmd="$1"
shift
status=0
"$cmd" "$@" "$dir" || status=$?
exit "$status"
