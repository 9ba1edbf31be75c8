#!/bin/sh
# run_scan.sh CAA CASE [LABDIR] — run the built `caa scan` (docs/cli.md "caa
# scan") and fail unless its rows, summary and exit status are what the docs
# promise. Cases named lab-* need the DNS lab (ctest runs them through
# tests/lab/run.sh, which appends LABDIR); their expectations come from the
# lab's catalogue, deploy/lab/scenarios.json.
set -u

caa=$1
case_name=$2
labdir=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
catalogue=$here/../../deploy/lab/scenarios.json
cfg="$labdir/caa.json"
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
scan_pid=
cleanup() {
	[ -z "$scan_pid" ] || kill "$scan_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
: >"$tmp/out"
: >"$tmp/err"
last="(none)"

fail() {
	echo "FAIL [$case_name]: $*" >&2
	echo "--- command: $last" >&2
	echo "--- stdout (first 40 lines):" >&2
	head -40 "$tmp/out" >&2
	echo "--- stderr:" >&2
	cat "$tmp/err" >&2
	exit 1
}

# run STATUS ARGS...: caa ARGS must exit with STATUS (stdin from /dev/null
# unless redirected by the caller through $stdin).
run() {
	want=$1
	shift
	last="caa $*"
	"$caa" "$@" <"${stdin:-/dev/null}" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "exit status $got, want $want"
}
err_has() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks: $1"; }
out_has() { grep -qF -- "$1" "$tmp/out" || fail "stdout lacks: $1"; }
need_lab() { [ -f "$cfg" ] || fail "no lab config at \"$cfg\" (run through tests/lab/run.sh)"; }

# check PYTHON: run a check over the rows (rows: list of dicts from FILE, JSON
# Lines) and the summary (summary: dict, from SUMFILE); exit status decides.
check() { # FILE SUMFILE PYTHON
	"$py" - "$1" "$2" "$catalogue" "$3" <<'PYEOF' || fail "check failed: $3"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
summary = json.load(open(sys.argv[2])) if sys.argv[2] != "-" else None
cat = json.load(open(sys.argv[3]))
exec(sys.argv[4])
PYEOF
}

# The catalogue's scenarios that a plain scan can judge: one identifier, no
# request options, no view, nothing slow or depending on a fresh context.
catalogue_names() { # OUT
	"$py" - "$catalogue" "$1" <<'PYEOF'
import json, sys
cat = json.load(open(sys.argv[1]))
skip = {"slow", "fresh-context", "no-validation", "mpic", "carve-out", "order", "size"}
faults = {"a.servfail.lab", "a.refused.lab", "a.lame.lab", "www.sub.rec.lab"}
seen = {}
for s in cat["scenarios"]:
    if "identifier" not in s or "request" in s or "views" in s or skip & set(s["tags"]):
        continue
    if "fault" in s["tags"] and s["identifier"] not in faults:
        continue
    e = s["expect"]
    key = (e["verdict"], e["reason"], e["relevant_domain"], e["dnssec"])
    seen.setdefault(s["identifier"], set()).add(key)
with open(sys.argv[2], "w") as f:
    for name, keys in seen.items():
        if len(keys) == 1:  # one expectation for the name
            f.write(name + "\n")
PYEOF
}

case "$case_name" in
usage)
	run 2 scan
	err_has "caa scan: give --issuer DOMAIN (built-in defaults) or --config FILE"
	run 2 scan --issuer ca.example --config x.json
	err_has "--issuer and --config exclude each other"
	run 2 scan --issuer ca.example --resume
	err_has "--resume needs --output FILE"
	run 2 scan --issuer ca.example --format xml
	err_has "--format: expected jsonl or csv"
	run 2 scan --issuer ca.example --rate fast
	err_has "--rate: expected checks a second"
	run 2 scan --issuer ca.example --max-in-flight 0
	err_has "--max-in-flight: expected a number from 1 to"
	run 2 scan --issuer ca.example "$tmp/missing.txt"
	err_has "missing.txt: No such file or directory"
	printf 'domain,rank\nexample.com,1\n' >"$tmp/in.csv"
	run 2 scan --issuer ca.example --csv-column name "$tmp/in.csv"
	err_has "no column \"name\" in the CSV header"
	run 2 scan --issuer ca.example --profile nope "$tmp/in.csv"
	err_has "--profile nope: no such profile in the built-in defaults"
	run 0 scan --help
	out_has "usage: caa scan"
	;;
lab-catalogue)
	# Every name of the catalogue a plain scan can judge: each row as the
	# catalogue expects it, then the summary's numbers recounted from them.
	need_lab
	catalogue_names "$tmp/names.txt"
	printf '# a comment, then a blank line\n\nbad..name\n192.0.2.1\n' >>"$tmp/names.txt"
	n=$(grep -c '^[^#]' "$tmp/names.txt")
	[ "$n" -gt 60 ] || fail "only $n names from the catalogue"
	# the catalogue's request defaults: the CA's account and dns-01
	acct=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ca"]["account_uri"])' "$catalogue")
	run 0 scan --config "$cfg" --account-uri "$acct" --method dns-01 --summary-json \
		--output "$tmp/rows.jsonl" "$tmp/names.txt"
	cp "$tmp/out" "$tmp/summary.json"
	check "$tmp/rows.jsonl" "$tmp/summary.json" '
names = [l.strip() for l in open(sys.argv[1].replace("rows.jsonl", "names.txt")) if l.strip() and not l.startswith("#")]
assert sorted(r["name"] for r in rows) == sorted(names), "not every name exactly once"
exp = {}
for s in cat["scenarios"]:
    if "identifier" in s and "request" not in s and "views" not in s:
        exp.setdefault(s["identifier"], s["expect"])
bad = []
for r in rows:
    if r["name"] == "bad..name":
        ok = r["verdict"] == "ERROR" and r["error_class"] == "BAD_NAME"
    elif r["name"] == "192.0.2.1":
        ok = r["verdict"] == "PERMITTED" and r["reason"] == "NOT_APPLICABLE"
    else:
        e = exp[r["name"]]
        ok = (r["verdict"], r["reason"], r["relevant_domain"], r["dnssec"]) == (e["verdict"], e["reason"], e["relevant_domain"], e["dnssec"])
        ok = ok and (r["error_class"] == (e["reason"] if e["verdict"] == "LOOKUP_FAILED" else None))
        ok = ok and (len(r["records"]) > 0) == (e["relevant_domain"] != "")
    if not ok:
        bad.append((r, exp.get(r["name"])))
assert not bad, "rows unlike the catalogue: %r" % bad[:3]
# the summary, recounted from the rows
s = summary
assert s["names"] == len(rows) and s["skipped"] == 0
from collections import Counter
assert s["verdicts"] == dict(Counter(r["verdict"] for r in rows)), s["verdicts"]
assert s["with_relevant_rrset"] == sum(1 for r in rows if r["relevant_domain"])
assert s["failures"] == sum(1 for r in rows if r["verdict"] in ("LOOKUP_FAILED", "ERROR"))
assert s["errors"] == dict(Counter(r["error_class"] for r in rows if r["error_class"])), s["errors"]
assert s["dnssec"] == dict(Counter(r["dnssec"] for r in rows if r["dnssec"])), s["dnssec"]
assert s["records"] == sum(len(r["records"]) for r in rows)
crit = Counter(x["tag"].lower() for r in rows for x in r["records"] if x["flags"] & 128 and not x.get("malformed"))
assert s["critical_tags"] == dict(crit), (s["critical_tags"], crit)
assert s["critical_tags"].get("tbs", 0) >= 1
acct = sum(1 for r in rows if any("accounturi" in x["value"].lower() for x in r["records"] if x["tag"].lower() in ("issue", "issuewild")))
assert s["accounturi_names"] == acct and acct >= 1, (s["accounturi_names"], acct)
assert s["validationmethods_names"] >= 1
assert s["malformed_records"] >= 1 and s["names_with_malformed"] >= 1
assert s["issuers"].get("ca.example", 0) >= 10 and "other-ca.example" in s["issuers"]
'
	# the text summary goes to stderr when the rows go to stdout
	run 0 scan --config "$cfg" --account-uri "$acct" --method dns-01 --format csv "$tmp/names.txt"
	err_has "summary: $n names"
	err_has "  relevant CAA RRset: "
	err_has "  errors by class: "
	head -1 "$tmp/out" | grep -qx 'name,verdict,reason,relevant_domain,records,dnssec,error_class,elapsed_ms' ||
		fail "CSV header"
	grep -q '^www.issue-deny.lab,FORBIDDEN,NOT_AUTHORIZED,issue-deny.lab,"0 issue ""other-ca.example""",SECURE,,' "$tmp/out" ||
		fail "CSV row of www.issue-deny.lab"
	;;
lab-csv-stdin)
	# A CSV with a name column, on stdin; --summary-only prints no rows.
	need_lab
	printf 'rank,name,note\n1,issue-permit.lab,x\n2,"www.issue-deny.lab","a, b"\n3,a.servfail.lab,\n' >"$tmp/in.csv"
	stdin="$tmp/in.csv" run 0 scan --config "$cfg" --csv-column name -
	check "$tmp/out" - '
assert [r["name"] for r in sorted(rows, key=lambda r: r["name"])] == ["a.servfail.lab", "issue-permit.lab", "www.issue-deny.lab"]
v = {r["name"]: r["verdict"] for r in rows}
assert v == {"a.servfail.lab": "LOOKUP_FAILED", "issue-permit.lab": "PERMITTED", "www.issue-deny.lab": "FORBIDDEN"}, v
'
	stdin="$tmp/in.csv" run 0 scan --config "$cfg" --csv-column name --summary-only
	out_has "summary: 3 names"
	out_has "  verdicts: FORBIDDEN 1, LOOKUP_FAILED 1, PERMITTED 1"
	out_has "  errors by class: DNS_SERVFAIL 1"
	# the built-in defaults with the lab's resolver
	printf 'issue-permit.lab\nwww.issue-deny.lab\n' >"$tmp/two.txt"
	run 0 scan --issuer ca.example --unbound-conf "$labdir/unbound.conf" --summary-only "$tmp/two.txt"
	out_has "  verdicts: FORBIDDEN 1, PERMITTED 1"
	# CSV rows resumed: one header, every name once
	run 0 scan --issuer ca.example --unbound-conf "$labdir/unbound.conf" --format csv \
		--output "$tmp/rows.csv" "$tmp/two.txt"
	printf 'www.nocaa.lab\n' >>"$tmp/two.txt"
	run 0 scan --issuer ca.example --unbound-conf "$labdir/unbound.conf" --format csv --resume \
		--output "$tmp/rows.csv" "$tmp/two.txt"
	out_has "summary: 1 names (2 skipped: already in the output)"
	[ "$(grep -c '^name,verdict,' "$tmp/rows.csv")" -eq 1 ] || fail "CSV header not once"
	[ "$(cut -d, -f1 "$tmp/rows.csv" | sort | tr '\n' ' ')" = "issue-permit.lab name www.issue-deny.lab www.nocaa.lab " ] ||
		fail "CSV rows: $(cat "$tmp/rows.csv")"
	;;
lab-profiles)
	# Several profiles decide from one set of lookups; the summary says where
	# they differ, and a profile that needs more labels fails closed.
	need_lab
	printf 'crit-iodef.lab\nf3.lab\na.nosoa.lab\nissue-permit.lab\nwww.issue-deny.lab\n' >"$tmp/names.txt"
	run 0 scan --config "$cfg" --profile default --profile strict-critical --profile nodata-strict \
		--summary-json --output "$tmp/rows.jsonl" "$tmp/names.txt"
	cp "$tmp/out" "$tmp/summary.json"
	check "$tmp/rows.jsonl" "$tmp/summary.json" '
p = {r["name"]: {k: (v["verdict"], v["reason"]) for k, v in r["profiles"].items()} for r in rows}
assert p["crit-iodef.lab"]["default"] == ("PERMITTED", "AUTHORIZED")
assert p["crit-iodef.lab"]["strict-critical"] == ("FORBIDDEN", "CRITICAL_TAG")
assert p["f3.lab"]["strict-critical"] == ("FORBIDDEN", "CRITICAL_TAG")
assert p["a.nosoa.lab"]["default"] == ("PERMITTED", "NO_CAA")
assert p["a.nosoa.lab"]["nodata-strict"] == ("LOOKUP_FAILED", "DNS_NODATA_WITHOUT_SOA")
assert p["www.issue-deny.lab"]["strict-critical"] == ("FORBIDDEN", "NOT_AUTHORIZED")
d = {x["profile"]: x for x in summary["profiles"]}
assert d["strict-critical"]["differ"] == 2 and d["strict-critical"]["transitions"] == {"PERMITTED -> FORBIDDEN": 2}
assert sorted(d["strict-critical"]["examples"]) == ["crit-iodef.lab", "f3.lab"]
assert d["nodata-strict"]["differ"] == 1 and d["nodata-strict"]["transitions"] == {"PERMITTED -> LOOKUP_FAILED": 1}
assert all(x["against"] == "default" for x in summary["profiles"])
'
	# the other way round: nodata-strict decides at a.nosoa.lab, maybe before
	# the labels above it answered. Either they had (the default profile then
	# permits, from the same lookups) or the default profile lacks them:
	# failed closed and counted, never guessed.
	printf 'a.nosoa.lab\n' >"$tmp/one.txt"
	run 0 scan --config "$cfg" --profile nodata-strict --profile default --summary-json \
		--output "$tmp/rows.jsonl" "$tmp/one.txt"
	cp "$tmp/out" "$tmp/summary.json"
	check "$tmp/rows.jsonl" "$tmp/summary.json" '
d = summary["profiles"][0]
r = rows[0]["profiles"]
assert r["nodata-strict"]["verdict"] == "LOOKUP_FAILED"
if d["undecided"] == 1:
    assert r["default"]["verdict"] == "LOOKUP_FAILED" and r["default"].get("undecided") is True and d["differ"] == 0
else:
    assert d["undecided"] == 0 and r["default"] == {"verdict": "PERMITTED", "reason": "NO_CAA"}
    assert d["transitions"] == {"LOOKUP_FAILED -> PERMITTED": 1}
'
	run 2 scan --config "$cfg" --method dns-02 "$tmp/one.txt"
	err_has "caa scan: --method dns-02: not a validation method this CA uses"
	;;
lab-resume)
	# Killed part way (SIGKILL, a row cut short), then --resume: every name
	# exactly once in the output.
	need_lab
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "r%dx.order.lab\n", i }' >"$tmp/names.txt"
	printf 'www.issue-deny.lab\na.servfail.lab\n' >>"$tmp/names.txt"
	"$caa" scan --config "$cfg" --rate 1000 --output "$tmp/rows.jsonl" "$tmp/names.txt" \
		</dev/null >/dev/null 2>"$tmp/err" &
	scan_pid=$!
	for _ in $(seq 1 300); do
		[ -f "$tmp/rows.jsonl" ] && [ "$(wc -l <"$tmp/rows.jsonl")" -ge 300 ] && break
		sleep 0.05
	done
	kill -KILL "$scan_pid"
	wait "$scan_pid" 2>/dev/null
	scan_pid=
	before=$(wc -l <"$tmp/rows.jsonl")
	[ "$before" -ge 300 ] && [ "$before" -lt 3002 ] || fail "$before rows before the kill"
	printf '{"name":"r2999x.order.lab","verd' >>"$tmp/rows.jsonl" # a row cut short
	run 0 scan --config "$cfg" --resume --output "$tmp/rows.jsonl" "$tmp/names.txt"
	out_has "skipped: already in the output"
	check "$tmp/rows.jsonl" - '
names = [l.strip() for l in open(sys.argv[1].replace("rows.jsonl", "names.txt"))]
got = [r["name"] for r in rows]
assert len(got) == len(set(got)), "a name twice"
assert sorted(got) == sorted(names), "names missing: %d of %d" % (len(set(names) - set(got)), len(names))
'
	# SIGTERM: the checks in flight are finished and written, exit 1
	"$caa" scan --config "$cfg" --rate 500 --output "$tmp/term.jsonl" "$tmp/names.txt" \
		</dev/null >/dev/null 2>"$tmp/err" &
	scan_pid=$!
	sleep 1
	kill -TERM "$scan_pid"
	wait "$scan_pid"
	got=$?
	scan_pid=
	[ "$got" -eq 1 ] || fail "exit status $got after SIGTERM, want 1"
	err_has "caa scan: interrupted: "
	tail -c 1 "$tmp/term.jsonl" | od -c | grep -q '\\n' || fail "the last row is cut short"
	;;
*)
	fail "unknown case"
	;;
esac
exit 0
