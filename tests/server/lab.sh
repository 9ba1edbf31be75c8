#!/usr/bin/env bash
# lab.sh up|down|resolver DIR — the DNS lab of the server tests (a ctest fixture): the
# project's lab (deploy/lab/caa-lab) on a free 127.N range (auto; the
# scenario tests use 127.55, a demo lab 127.53), because the fixture keeps it
# up while other lab tests come and go. CAAD_TEST_LAB_NET picks another.
# This is the one place that knows which lab the server tests use.
# `resolver` starts the lab's validating unbound daemon after all, for the
# one test whose servers need a resolver address (the Boulder anchor,
# t_anchor.c); `down` stops it with the rest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CAA_LAB_NET=${CAAD_TEST_LAB_NET:-auto}
export CAA_LAB_RESOLVER=0 # caad resolves with its own libunbound
cmd=$1 dir=$2
case "$cmd" in
up) exec "$here/../../deploy/lab/caa-lab" up "$dir" ;;
down) exec "$here/../../deploy/lab/caa-lab" down "$dir" ;;
resolver) exec "$here/../../deploy/lab/caa-lab" resolver "$dir" ;;
*) echo "usage: lab.sh up|down|resolver DIR" >&2; exit 2 ;;
esac
