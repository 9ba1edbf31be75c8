#!/bin/sh
# run_evaluate.sh CAA EXAMPLES CASE — run the built caa against the bundled
# records files (deploy/examples) and fail unless the exit status and output
# are exactly what docs/cli.md promises. One CASE per ctest test.
set -u

caa=$1
ex=$2
case_name=$3
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL [$case_name]: $*" >&2
	echo "--- command: $last" >&2
	echo "--- stdout:" >&2
	cat "$tmp/out" >&2
	echo "--- stderr:" >&2
	cat "$tmp/err" >&2
	exit 1
}

# run STATUS ARGS...: caa ARGS must exit with STATUS.
run() {
	want=$1
	shift
	last="caa $*"
	"$caa" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "exit status $got, want $want"
}

out_has() {
	grep -qF -- "$1" "$tmp/out" || fail "stdout lacks: $1"
}

err_has() {
	grep -qF -- "$1" "$tmp/err" || fail "stderr lacks: $1"
}

out_empty() {
	[ ! -s "$tmp/out" ] || fail "stdout is not empty"
}

err_empty() {
	[ ! -s "$tmp/err" ] || fail "stderr is not empty"
}

out_lines() {
	n=$(wc -l <"$tmp/out")
	[ "$n" -eq "$1" ] || fail "stdout has $n lines, want $1"
}

# json_check PYTHON-EXPR: every stdout line is a JSON object; the expression
# (over r, the list of objects) must hold.
json_check() {
	[ -x "$py" ] || fail "$py is needed to check JSON output"
	"$py" -c '
import json, sys
r = [json.loads(line) for line in open(sys.argv[1])]
assert all(isinstance(o, dict) for o in r), "not objects"
ok = eval(sys.argv[2])
if not ok:
    sys.exit("JSON check failed: " + sys.argv[2])
' "$tmp/out" "$1" || fail "JSON check: $1"
}

demo="--config $ex/demo.json"

case "$case_name" in
permitted)
	run 0 evaluate $demo --records "$ex/permitted.records" www.shop.example
	out_has "PERMITTED  www.shop.example  relevant shop.example  AUTHORIZED  dnssec indeterminate"
	out_lines 1
	err_empty
	;;
forbidden)
	run 1 evaluate $demo --records "$ex/forbidden.records" www.shop.example
	out_has "FORBIDDEN  www.shop.example  relevant shop.example  NOT_AUTHORIZED"
	out_has "  urn:ietf:params:acme:error:caa (403) While processing CAA for www.shop.example: CAA record for shop.example prevents issuance"
	err_empty
	;;
critical)
	run 1 evaluate $demo --records "$ex/critical.records" shop.example
	out_has "FORBIDDEN  shop.example  relevant shop.example  CRITICAL_TAG"
	run 1 evaluate $demo --records "$ex/critical.records" --explain shop.example
	out_has '128 tbs "Unknown"'
	out_has "critical tag not understood: blocks issuance"
	;;
accounturi)
	run 0 evaluate $demo --records "$ex/accounturi.records" \
		--account-uri https://ca.example/acme/acct/1 shop.example
	out_has "PERMITTED  shop.example  relevant shop.example  AUTHORIZED"
	run 0 evaluate $demo --records "$ex/accounturi.records" --account-id 1 shop.example
	out_has "PERMITTED  shop.example  relevant shop.example  AUTHORIZED"
	run 1 evaluate $demo --records "$ex/accounturi.records" \
		--account-uri https://ca.example/acme/acct/2 shop.example
	out_has "FORBIDDEN  shop.example  relevant shop.example  ACCOUNT_URI_MISMATCH"
	run 1 evaluate $demo --records "$ex/accounturi.records" shop.example
	out_has "ACCOUNT_URI_MISMATCH"
	# An account URI and an id naming different accounts: refused, as caad
	# refuses them, though either form alone would be decided (issue 8).
	for pair in "https://ca.example/acme/acct/1 2" "https://other.example/acct/1 1" "1 1"; do
		uri=${pair% *}
		id=${pair#* }
		run 2 evaluate $demo --records "$ex/accounturi.records" \
			--account-uri "$uri" --account-id "$id" shop.example
		out_empty
		err_has "caa evaluate: --account-uri $uri and --account-id $id: the account URI and the account id name different accounts"
	done
	run 0 evaluate $demo --records "$ex/accounturi.records" \
		--account-uri https://ca.example/acme/acct/1 --account-id 1 shop.example
	out_has "PERMITTED  shop.example  relevant shop.example  AUTHORIZED"
	;;
wildcard)
	run 0 evaluate $demo --records "$ex/wildcard.records" www.shop.example
	out_has "PERMITTED  www.shop.example  relevant shop.example  AUTHORIZED"
	run 1 evaluate $demo --records "$ex/wildcard.records" --explain '*.shop.example'
	out_has "FORBIDDEN  *.shop.example  relevant shop.example  NOT_AUTHORIZED"
	out_has "issue: ignored, issuewild governs wildcards"
	out_has "no issuer: forbids every CA"
	;;
servfail-below)
	run 4 evaluate $demo --records "$ex/servfail-below.records" www.shop.example
	out_has "LOOKUP_FAILED  www.shop.example  relevant -  DNS_SERVFAIL"
	out_has "  urn:ietf:params:acme:error:dns (400) While processing CAA for www.shop.example: DNS problem: SERVFAIL looking up CAA for www.shop.example - the domain's nameservers may be malfunctioning"
	run 4 evaluate $demo --records "$ex/servfail-below.records" --explain www.shop.example
	out_has "    www.shop.example.   SERVFAIL   <- lookup failed here: decides"
	out_has "        why: lame delegation"
	out_has "    shop.example.       1 CAA      (not needed: decided below)"
	;;
error-above)
	run 0 evaluate $demo --records "$ex/error-above.records" --explain www.shop.example
	out_has "PERMITTED  www.shop.example  relevant shop.example  AUTHORIZED"
	out_has "<- relevant RRset"
	out_has "TIMEOUT   (not needed: decided below)"
	run 4 evaluate $demo --records "$ex/error-above.records" blog.example
	out_has "LOOKUP_FAILED  blog.example  relevant -  DNS_TIMEOUT"
	out_has "DNS problem: query timed out looking up CAA for example"
	;;
bogus)
	run 4 evaluate $demo --records "$ex/bogus.records" www.shop.example
	out_has "LOOKUP_FAILED  www.shop.example  relevant -  DNSSEC_BOGUS  dnssec bogus"
	out_has "DNS problem: DNSSEC: signature expired looking up CAA for shop.example"
	;;
malformed)
	run 1 evaluate $demo --records "$ex/malformed.records" shop.example
	out_has "FORBIDDEN  shop.example  relevant shop.example  MALFORMED_PROPERTY"
	;;
nodata-no-soa)
	run 0 evaluate $demo --records "$ex/nodata-no-soa.records" --explain www.shop.example
	out_has "PERMITTED  www.shop.example  relevant -  NO_CAA"
	out_has "    shop.example.       NODATA without SOA, counted as empty"
	out_has "    flag NODATA_WITHOUT_SOA: "
	;;
explain)
	run 1 evaluate $demo --records "$ex/forbidden.records" --explain www.shop.example
	out_has "    www.shop.example.   NODATA"
	out_has "    shop.example.       2 CAA    <- relevant RRset"
	out_has '0 issue "other-ca.example"'
	out_has "names another CA (ca.example is configured)"
	out_has "not restricting"
	out_has "    example.            not needed: decided below"
	out_lines 7
	;;
several-names)
	# The worst verdict sets the exit status; results come in argument order.
	run 1 evaluate $demo --records "$ex/wildcard.records" www.shop.example '*.shop.example' 192.0.2.1
	out_lines 4
	out_has "PERMITTED  www.shop.example"
	out_has "FORBIDDEN  *.shop.example"
	out_has "PERMITTED  192.0.2.1  relevant -  NOT_APPLICABLE"
	;;
issuer-option)
	run 0 evaluate --issuer other-ca.example --records "$ex/forbidden.records" www.shop.example
	out_has "PERMITTED  www.shop.example  relevant shop.example  AUTHORIZED"
	run 1 evaluate $demo --issuer Other-CA.example. --records "$ex/permitted.records" www.shop.example
	out_has "FORBIDDEN  www.shop.example  relevant shop.example  NOT_AUTHORIZED"
	;;
json)
	run 1 evaluate $demo --records "$ex/forbidden.records" --json www.shop.example
	out_lines 1
	json_check 'len(r) == 1 and r[0]["verdict"] == "FORBIDDEN" and r[0]["reason"] == "NOT_AUTHORIZED" and r[0]["identifier"] == {"type": "dns", "value": "www.shop.example"} and r[0]["relevantDomain"] == "shop.example" and r[0]["records"][0] == {"tag": "issue", "value": "other-ca.example", "note": "names another CA", "decided": True} and r[0]["problem"]["status"] == 403 and r[0]["problem"]["type"] == "urn:ietf:params:acme:error:caa" and r[0]["dnssec"] == "INDETERMINATE" and r[0]["checkedAt"].endswith("Z") and "trace" not in r[0] and "reused" not in r[0]'
	run 0 evaluate $demo --records "$ex/permitted.records" --json --explain www.shop.example 192.0.2.1
	out_lines 2
	json_check '[o["verdict"] for o in r] == ["PERMITTED", "PERMITTED"] and [t["outcome"] for t in r[0]["trace"]] == ["NODATA", "PRESENT", "NODATA"] and r[0]["trace"][1]["relevant"] is True and r[0]["records"][0]["authorizes"] is True and "problem" not in r[0] and r[1]["identifier"]["type"] == "ip" and r[1]["reason"] == "NOT_APPLICABLE"'
	;;
usage)
	run 2
	out_empty
	err_has "usage: caa <command>"
	run 2 evaluate www.shop.example
	out_empty
	err_has "caa evaluate: --records FILE is required"
	err_has "usage: caa evaluate"
	run 2 evaluate $demo --records "$ex/permitted.records"
	err_has "caa evaluate: no NAME given"
	run 2 evaluate --no-such-option
	err_has "caa evaluate: unrecognized option"
	err_has "usage: caa evaluate"
	run 2 evaluate $demo --records "$ex/accounturi.records" --account-id -3 shop.example
	err_has "--account-id: expected a positive integer"
	run 2 frobnicate
	err_has 'caa: unknown command "frobnicate"'
	run 0 --help
	out_has "usage: caa <command>"
	run 0 evaluate --help
	out_has "usage: caa evaluate"
	;;
bad-name)
	run 2 evaluate $demo --records "$ex/permitted.records" www..shop.example
	out_empty
	err_has 'caa evaluate: "www..shop.example": identifier has an empty label'
	run 2 evaluate $demo --records "$ex/permitted.records" www.shop.example 'a.*.example'
	out_empty
	err_has '"a.*.example": '"'*'"' is only allowed as a single leading "*." label'
	run 2 evaluate --issuer 'ca_example' --records "$ex/permitted.records" www.shop.example
	err_has "--issuer ca_example: identifier has a character other than"
	;;
missing-records)
	run 2 evaluate $demo --records "$ex/no-such.records" www.shop.example
	out_empty
	err_has "no-such.records: No such file or directory"
	;;
bad-records)
	printf '; ok\nshop.example CAA 300 issue "x"\n' >"$tmp/bad.records"
	run 2 evaluate $demo --records "$tmp/bad.records" www.shop.example
	out_empty
	err_has "bad.records: line 2: bad flags \"300\": expected a number from 0 to 255"
	;;
config-errors)
	run 2 evaluate --records "$ex/permitted.records" www.shop.example
	err_has "no issuer domain: give --issuer DOMAIN, or --config FILE"
	run 2 evaluate --config "$ex/no-such.json" --records "$ex/permitted.records" www.shop.example
	err_has "no-such.json: No such file or directory"
	printf '{"issuer_domainz": ["ca.example"]}\n' >"$tmp/bad.json"
	run 2 evaluate --config "$tmp/bad.json" --records "$ex/permitted.records" www.shop.example
	err_has "issuer_domainz"
	run 2 evaluate $demo --policy no-such-profile --records "$ex/permitted.records" www.shop.example
	err_has "--policy no-such-profile: no such profile"
	# A method the CA cannot mean is refused, never a mere mismatch (issue 8).
	for m in dns-02 tls-sni-01 'dns-01 ' DNS-01 ca-tbr-7; do
		run 2 evaluate $demo --method "$m" --records "$ex/permitted.records" www.shop.example
		out_empty
		err_has "caa evaluate: --method $m: not a validation method this CA uses"
	done
	run 0 evaluate $demo --method dns-account-01 --records "$ex/permitted.records" www.shop.example
	;;
*)
	last="(none)"
	: >"$tmp/out"
	: >"$tmp/err"
	fail "unknown case"
	;;
esac
exit 0
