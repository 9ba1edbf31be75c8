#!/usr/bin/env bash
# perspectives.sh CAAD CAA LABDIR — `caa-lab perspectives` against a running lab
# (tests/lab/run.sh brings it up and appends LABDIR): the configs of a primary
# and 5 remotes, two of them on DNS views, are what lib/config.c accepts and
# resolve as their views say.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lab="$here/../../deploy/lab/caa-lab"
caad=$1 caa=$2 dir=$3
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }

"$lab" perspectives "$dir" 5 --base-port 18100 --view 3=hijacked --view 5=servfail ||
	{ echo "FAIL caa-lab perspectives"; exit 1; }
p="$dir/perspectives"

# The shape caad's primary mode reads (lib/config.c parse_perspective/parse_remote).
/usr/bin/python3 - "$p" <<'PY' || fail "primary.json shape"
import json, sys
p = sys.argv[1]
prim = json.load(open(p + "/primary.json"))["perspective"]
assert prim["name"] == "primary" and prim["min_remotes"] == 5, prim
assert prim["remote_timeout"] == "2s", prim
rem = prim["remotes"]
assert [r["name"] for r in rem] == ["remote-%d" % i for i in range(1, 6)], rem
assert [r["address"] for r in rem] == ["127.0.0.1:%d" % (18100 + i) for i in range(1, 6)], rem
assert len({r["rir"] for r in rem}) >= 4, rem
assert json.load(open(p + "/primary.json"))["listen"] == "127.0.0.1:18100"
for i, r in enumerate(rem, 1):
    c = json.load(open("%s/remote-%d.json" % (p, i)))
    assert c["perspective"] == {"name": r["name"], "rir": r["rir"]}, c["perspective"]
    assert c["listen"] == r["address"], c["listen"]
    assert "remotes" not in c["perspective"]
print("ok   primary.json lists the 5 remotes, min_remotes 5, remote_timeout 2s, 5 RIRs")
PY

# Remotes load in caad as it is (no remotes of their own).
for i in 1 2 3 4 5; do
	if out=$("$caad" --check-config "$p/remote-$i.json" 2>&1); then
		ok "caad --check-config remote-$i.json"
	else
		fail "caad --check-config remote-$i.json: $out"
	fi
done

# Each config resolves through its own view (libcaa in-process; this also
# parses the primary's perspective.remotes with lib/config.c).
expect() { # config name verdict (as the lab CA's account 1)
	local got
	got=$("$caa" check --config "$p/$1.json" --account-uri https://ca.example/acme/acct/1 "$2" \
		2>"$p/$1.stderr" | head -1 | awk '{print $1}')
	if [ "$got" = "$3" ]; then ok "$1: $2 $3"; else fail "$1: $2 is '$got', expected $3"; fi
}
expect primary permit.mpic.lab PERMITTED
# in-process, the primary's config corroborates nothing, and caa says so
grep -q "corroborates nothing" "$p/primary.stderr" && ok "caa warns that --config primary.json is single-perspective" ||
	fail "no warning from caa check --config primary.json: $(cat "$p/primary.stderr")"
expect remote-1 permit.mpic.lab PERMITTED
expect remote-3 permit.mpic.lab FORBIDDEN
expect remote-3 acct.mpic.lab PERMITTED
expect remote-5 permit.mpic.lab LOOKUP_FAILED
expect remote-4 x1.bench.mpic.lab PERMITTED
expect remote-3 x1.bench.mpic.lab FORBIDDEN

# Refused: a remote that does not exist, a view the lab does not have.
"$lab" perspectives "$dir" 5 --view 6=hijacked >/dev/null 2>&1 && fail "--view 6= with 5 remotes accepted"
"$lab" perspectives "$dir" 5 --view 1=nosuch >/dev/null 2>&1 && fail "--view 1=nosuch accepted"
"$lab" perspectives "$dir" 0 >/dev/null 2>&1 && fail "0 remotes accepted"

echo "$failures failed"
[ "$failures" = 0 ]
