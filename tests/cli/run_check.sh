#!/bin/sh
# run_check.sh CAA CAAD CASE [LABDIR] — run the built caa check / caa order and
# fail unless exit status and output are what docs/cli.md promises. One CASE
# per ctest test. Cases named lab-* and server-* need the DNS lab: ctest runs
# them through tests/lab/run.sh, which brings a private lab up and appends its
# directory (LABDIR). CAAD is the built caad, or "-" when there is none.
# Names and expected answers come from deploy/lab/scenarios.json.
set -u

caa=$1
caad=$2
case_name=$3
labdir=${4:-}
cfg="$labdir/caa.json"
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
caad_pids=
cleanup() {
	for pid in $caad_pids; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
: >"$tmp/out"
: >"$tmp/err"
last="(none)"

fail() {
	echo "FAIL [$case_name]: $*" >&2
	echo "--- command: $last" >&2
	echo "--- stdout:" >&2
	cat "$tmp/out" >&2
	echo "--- stderr:" >&2
	cat "$tmp/err" >&2
	for log in "$tmp"/caad*.log; do
		[ -f "$log" ] || continue
		echo "--- $(basename "$log" .log) log:" >&2
		cat "$log" >&2
	done
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

out_has() { grep -qF -- "$1" "$tmp/out" || fail "stdout lacks: $1"; }
out_lacks() { ! grep -qF -- "$1" "$tmp/out" || fail "stdout has: $1"; }
err_has() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks: $1"; }
out_empty() { [ ! -s "$tmp/out" ] || fail "stdout is not empty"; }
err_empty() { [ ! -s "$tmp/err" ] || fail "stderr is not empty"; }
err_lacks() { ! grep -qF -- "$1" "$tmp/err" || fail "stderr has: $1"; }
out_lines() {
	n=$(wc -l <"$tmp/out")
	[ "$n" -eq "$1" ] || fail "stdout has $n lines, want $1"
}

# line N TEXT: line N of stdout starts with TEXT (order matters).
line() {
	got=$(sed -n "${1}p" "$tmp/out")
	case "$got" in
	"$2"*) ;;
	*) fail "line $1 is \"$got\", want it to start with \"$2\"" ;;
	esac
}

# json_check PYTHON-EXPR: every stdout line is a JSON object; the expression
# (over r, the list of objects) must hold.
json_check() {
	[ -x "$py" ] || fail "$py is needed to check JSON output"
	"$py" -c '
import json, sys
r = [json.loads(line) for line in open(sys.argv[1])]
assert all(isinstance(o, dict) for o in r), "not objects"
if not eval(sys.argv[2]):
    sys.exit("JSON check failed: " + sys.argv[2])
' "$tmp/out" "$1" || fail "JSON check: $1"
}

need_lab() { [ -f "$cfg" ] || fail "no lab config at \"$cfg\" (run through tests/lab/run.sh)"; }

# An EC key and a CSR / self-signed certificate with the given SAN list.
make_csr() { # FILE SANS
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tmp/key.pem" -out "$1" -subj /CN=caa-cli-test \
		-addext "subjectAltName=$2" 2>"$tmp/openssl.err" || {
		cat "$tmp/openssl.err" >&2
		fail "openssl req failed"
	}
}
make_cert() { # FILE SANS
	openssl req -x509 -days 1 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tmp/key.pem" -out "$1" -subj /CN=caa-cli-test \
		-addext "subjectAltName=$2" 2>"$tmp/openssl.err" || {
		cat "$tmp/openssl.err" >&2
		fail "openssl req -x509 failed"
	}
}

# start_caad [JSON [TAG]]: caad on 127.0.0.1:0 with the lab's config (plus the
# JSON object merged in, e.g. TLS); sets $server and $port from its "listening"
# line. TAG names its files (caadTAG.json, caadTAG.log) when several run.
start_caad() {
	[ "$caad" != "-" ] || fail "caad was not built"
	extra=${1:-}
	tag=${2:-}
	[ -n "$extra" ] || extra='{}'
	"$py" -c '
import json, sys
c = json.load(open(sys.argv[1]))
c["listen"] = "127.0.0.1:0"
c.update(json.loads(sys.argv[3]))
json.dump(c, open(sys.argv[2], "w"))
' "$cfg" "$tmp/caad$tag.json" "$extra" || fail "could not write the caad config"
	GRPC_VERBOSITY=NONE "$caad" --config "$tmp/caad$tag.json" 2>"$tmp/caad$tag.log" &
	caad_pid=$!
	caad_pids="$caad_pids $caad_pid"
	port=
	for _ in $(seq 1 100); do
		port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9][0-9]*\).*/\1/p' "$tmp/caad$tag.log")
		[ -n "$port" ] && break
		kill -0 "$caad_pid" 2>/dev/null || fail "caad exited"
		sleep 0.1
	done
	[ -n "$port" ] || fail "caad did not log its port"
	server="127.0.0.1:$port"
}

case "$case_name" in
# ---- no lab needed ----
usage)
	run 2 check www.issue-deny.lab
	out_empty
	err_has "caa check: give --issuer DOMAIN (in-process, built-in defaults), --config FILE (in-process) or --server HOST:PORT (through caad)"
	err_has "usage: caa check"
	run 2 order --config x.json --server 127.0.0.1:1 a.lab
	err_has "caa order: --issuer, --config and --server exclude each other"
	run 2 check --config x.json
	err_has "caa check: no NAME given (nor --csr / --cert)"
	run 2 check --config x.json --validated-at yesterday a.lab
	err_has "--validated-at: expected an RFC 3339 time"
	run 2 check --config x.json --validated-at 2026-02-30x00:00:00Z a.lab
	err_has "--validated-at: expected an RFC 3339 time"
	run 2 check --config x.json --timeout 10 a.lab
	err_has "--timeout: expected a duration"
	run 2 check --server 127.0.0.1:1 --tls-cert c.pem a.lab
	err_has "--tls-cert and --tls-key go together"
	run 2 check --config x.json --ca ca.pem a.lab
	err_has "need --server"
	run 2 check --config x.json --account-id 0 a.lab
	err_has "--account-id: expected a positive integer"
	run 2 check --bogus-option a.lab
	err_has "unrecognized option"
	run 0 check --help
	out_has "usage: caa check"
	out_has "--tls-cert FILE"
	run 0 order --help
	out_has "usage: caa order"
	out_has "--cert FILE"
	;;
bad-name)
	# All names are checked before anything is asked: nothing printed, exit 2.
	run 2 check --server 127.0.0.1:1 www.example.com 'www..example.com'
	out_empty
	err_has 'caa check: "www..example.com": identifier has an empty label'
	run 2 order --server 127.0.0.1:1 a.example 'a.*.example'
	out_empty
	err_has 'caa order: "a.*.example": '
	;;
config-errors)
	run 2 check --config "$tmp/no-such.json" a.example
	err_has "no-such.json: No such file or directory"
	printf '{"issuer_domainz": ["ca.example"]}\n' >"$tmp/bad.json"
	run 2 check --config "$tmp/bad.json" a.example
	err_has "issuer_domainz"
	printf '{}\n' >"$tmp/none.json"
	run 2 check --config "$tmp/none.json" a.example
	err_has 'has no "issuer_domains"'
	printf '{"issuer_domains": ["ca.example"]}\n' >"$tmp/ok.json"
	run 2 check --config "$tmp/ok.json" --policy no-such-profile a.example
	err_has "--policy no-such-profile: no such profile"
	# A method the CA cannot mean is refused before anything is asked, even
	# when --validated-at would reuse without DNS (issue 8).
	recent=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
	for m in dns-02 tls-sni-01 'dns-01 ' DNS-01; do
		run 2 check --config "$tmp/ok.json" --method "$m" a.example
		out_empty
		err_has "caa check: --method $m: not a validation method this CA uses"
		run 2 order --config "$tmp/ok.json" --method "$m" --validated-at "$recent" a.example
		out_empty
		err_has "caa order: --method $m: not a validation method this CA uses"
	done
	# So is an account URI and an id naming different accounts, as caad
	# refuses them (issue 8); agreeing forms are one account.
	printf '{"issuer_domains": ["ca.example"], "account_uri_prefixes": ["https://ca.example/acct/"]}\n' >"$tmp/acct.json"
	for cmd in check order; do
		run 2 $cmd --config "$tmp/acct.json" --account-uri https://ca.example/acct/1 \
			--account-id 2 --validated-at "$recent" a.example
		out_empty
		err_has "caa $cmd: --account-uri https://ca.example/acct/1 and --account-id 2: the account URI and the account id name different accounts"
		run 0 $cmd --config "$tmp/acct.json" --account-uri https://ca.example/acct/1 \
			--account-id 1 --validated-at "$recent" a.example
		out_has "PERMITTED  a.example"
	done
	;;
unreachable)
	# Nothing listens on port 1: UNAVAILABLE (gRPC fails fast; a client that
	# waited for the server would end DEADLINE_EXCEEDED instead), exit 3.
	run 3 check --server 127.0.0.1:1 --timeout 60s a.example b.example
	out_empty
	err_lacks "DEADLINE_EXCEEDED"
	err_has "caa check: a.example: server 127.0.0.1:1: UNAVAILABLE"
	err_has "(1 more calls failed the same way)"
	run 3 order --server 127.0.0.1:1 --json a.example b.example
	out_empty
	err_has "caa order: server 127.0.0.1:1: UNAVAILABLE"
	;;
san-errors)
	run 2 order --config x.json --csr "$tmp/missing.pem"
	err_has "missing.pem: No such file or directory"
	printf 'not a certificate\n' >"$tmp/junk.pem"
	run 2 order --config x.json --cert "$tmp/junk.pem"
	err_has "junk.pem: not a PEM or DER certificate or certificate request"
	run 2 check --config x.json --cert - <"$tmp/junk.pem"
	err_has "caa check: standard input: not a PEM or DER certificate or certificate request"
	make_csr "$tmp/req.pem" "DNS:a.example"
	openssl req -new -key "$tmp/key.pem" -out "$tmp/nosan.pem" -subj /CN=a.example 2>/dev/null ||
		fail "openssl req failed"
	run 2 order --config x.json --csr "$tmp/nosan.pem"
	err_has "nosan.pem: the certificate request has no DNS or IP subjectAltName"
	make_cert "$tmp/bad.pem" "DNS:ok.example,DNS:bad_name.example"
	run 2 order --server 127.0.0.1:1 --cert "$tmp/bad.pem"
	out_empty
	err_has "\"bad_name.example\" from $tmp/bad.pem: identifier has a character other than"
	# an address in a DNS SAN is no DNS name: refused, not "not applicable"
	make_cert "$tmp/ipdns.pem" "DNS:ok.example,DNS:192.0.2.1"
	run 2 check --server 127.0.0.1:1 --cert "$tmp/ipdns.pem"
	out_empty
	err_has "\"192.0.2.1\" from $tmp/ipdns.pem: identifier of type \"dns\" is an IP address"
	make_csr "$tmp/ipdns.csr" "DNS:2001:db8::1"
	run 2 order --server 127.0.0.1:1 --csr "$tmp/ipdns.csr"
	err_has "\"2001:db8::1\" from $tmp/ipdns.csr: identifier of type \"dns\" is an IP address"
	;;

# ---- in-process against the lab ----
lab-permitted)
	need_lab
	run 0 check --config "$cfg" issue-permit.lab
	out_lines 1
	line 1 "PERMITTED  issue-permit.lab  relevant issue-permit.lab  AUTHORIZED  dnssec secure"
	err_empty
	run 0 check --config "$cfg" www.nocaa.lab 192.0.2.1
	line 1 "PERMITTED  www.nocaa.lab  relevant -  NO_CAA  dnssec secure"
	line 2 "PERMITTED  192.0.2.1  relevant -  NOT_APPLICABLE"
	;;
lab-forbidden)
	need_lab
	run 1 check --config "$cfg" www.issue-deny.lab
	line 1 "FORBIDDEN  www.issue-deny.lab  relevant issue-deny.lab  NOT_AUTHORIZED  dnssec secure"
	line 2 "  urn:ietf:params:acme:error:caa (403) While processing CAA for www.issue-deny.lab: CAA record for issue-deny.lab prevents issuance"
	out_lines 2
	run 1 check --config "$cfg" --explain www.issue-deny.lab
	line 3 "    www.issue-deny.lab.   NXDOMAIN   dnssec secure"
	line 4 "    issue-deny.lab.       1 CAA      dnssec secure"
	out_has " ms   <- relevant RRset"
	line 5 '        0 issue "other-ca.example"   names another CA (ca.example is configured)'
	line 6 "    lab.                  not needed: decided below"
	out_has "queries, "
	;;
lab-critical)
	need_lab
	run 1 check --config "$cfg" --explain critical.lab
	line 1 "FORBIDDEN  critical.lab  relevant critical.lab  CRITICAL_TAG  dnssec secure"
	out_has "<- relevant RRset"
	out_has '128 tbs "x"'
	out_has "critical tag not understood: blocks issuance"
	# docs/failures.md 3: critical iodef passes by default, blocks under the strict reading.
	run 0 check --config "$cfg" crit-iodef.lab
	line 1 "PERMITTED  crit-iodef.lab  relevant crit-iodef.lab  AUTHORIZED"
	run 1 check --config "$cfg" --policy strict-critical crit-iodef.lab
	line 1 "FORBIDDEN  crit-iodef.lab  relevant crit-iodef.lab  CRITICAL_TAG  dnssec secure  policy strict-critical"
	;;
lab-bogus)
	need_lab
	run 4 check --config "$cfg" --explain expired.lab
	line 1 "LOOKUP_FAILED  expired.lab  relevant -  DNSSEC_BOGUS  dnssec bogus"
	line 2 "  urn:ietf:params:acme:error:dns (400) While processing CAA for expired.lab: DNS problem: DNSSEC: "
	line 3 "    expired.lab.   BOGUS"
	out_has "<- lookup failed here: decides"
	out_has "        why: "
	out_has "signature expired"
	;;
lab-servfail)
	need_lab
	run 4 check --config "$cfg" --explain a.servfail.lab
	line 1 "LOOKUP_FAILED  a.servfail.lab  relevant -  DNS_SERVFAIL"
	line 2 "  urn:ietf:params:acme:error:dns (400) While processing CAA for a.servfail.lab: DNS problem: SERVFAIL looking up CAA for a.servfail.lab - the domain's nameservers may be malfunctioning"
	line 3 "    a.servfail.lab.   SERVFAIL   "
	out_has "retr"
	out_has "<- lookup failed here: decides"
	out_has "        why: "
	out_has "    flag RETRIED: "
	;;
lab-nodata-no-soa)
	need_lab
	run 0 check --config "$cfg" --explain a.nosoa.lab
	line 1 "PERMITTED  a.nosoa.lab  relevant -  NO_CAA  dnssec insecure"
	line 2 "    a.nosoa.lab.   NODATA without SOA, counted as empty"
	out_has "    flag NODATA_WITHOUT_SOA: "
	run 4 check --config "$cfg" --policy nodata-strict a.nosoa.lab
	line 1 "LOOKUP_FAILED  a.nosoa.lab  relevant -  DNS_NODATA_WITHOUT_SOA"
	run 0 check --config "$cfg" --json a.nosoa.lab
	json_check 'r[0]["verdict"] == "PERMITTED" and r[0]["flags"] == ["NODATA_WITHOUT_SOA"]'
	;;
lab-several)
	need_lab
	# Concurrent checks; results in argument order; the worst verdict decides.
	run 1 check --config "$cfg" a.servfail.lab issue-permit.lab www.issue-deny.lab '*.wild1.lab' 192.0.2.1
	line 1 "LOOKUP_FAILED  a.servfail.lab"
	line 3 "PERMITTED  issue-permit.lab"
	line 4 "FORBIDDEN  www.issue-deny.lab"
	line 6 "PERMITTED  *.wild1.lab  relevant wild1.lab  AUTHORIZED"
	line 7 "PERMITTED  192.0.2.1"
	out_lines 7
	run 0 check --config "$cfg" issue-permit.lab www.nocaa.lab a.b.issue-permit.lab
	out_lines 3
	;;
lab-json)
	need_lab
	run 1 check --config "$cfg" --json www.issue-deny.lab issue-permit.lab
	out_lines 2
	json_check '[o["verdict"] for o in r] == ["FORBIDDEN", "PERMITTED"] and r[0]["reason"] == "NOT_AUTHORIZED" and r[0]["relevantDomain"] == "issue-deny.lab" and r[0]["dnssec"] == "SECURE" and r[0]["problem"]["status"] == 403 and r[0]["queries"] > 0 and "trace" not in r[0] and r[1]["records"][0]["authorizes"] is True'
	run 4 check --config "$cfg" --json --explain a.servfail.lab
	json_check 'r[0]["reason"] == "DNS_SERVFAIL" and r[0]["trace"][0]["outcome"] == "SERVFAIL" and r[0]["trace"][0]["relevant"] is True and r[0]["trace"][0]["retries"] >= 1 and [t["name"] for t in r[0]["trace"]] == ["a.servfail.lab", "servfail.lab", "lab"] and r[0]["flags"] == ["RETRIED"]'
	;;
lab-order)
	need_lab
	run 1 order --config "$cfg" issue-permit.lab www.issue-deny.lab www.nocaa.lab a.servfail.lab
	line 1 "PERMITTED  issue-permit.lab"
	line 2 "FORBIDDEN  www.issue-deny.lab"
	line 3 "PERMITTED  www.nocaa.lab"
	line 4 "LOOKUP_FAILED  a.servfail.lab"
	line 5 "ORDER  4 identifiers  2 not permitted: 1 forbidden, 1 lookup failed"
	line 6 '  urn:ietf:params:acme:error:caa (403) Rechecking CAA for "www.issue-deny.lab" and 1 more identifiers failed. Refer to sub-problems for more information'
	line 7 "    urn:ietf:params:acme:error:caa (403) While processing CAA for www.issue-deny.lab: "
	line 8 "    urn:ietf:params:acme:error:dns (400) While processing CAA for a.servfail.lab: DNS problem: SERVFAIL"
	out_lines 8
	run 1 order --config "$cfg" --json issue-permit.lab www.issue-deny.lab a.servfail.lab
	out_lines 1
	json_check '[x["verdict"] for x in r[0]["results"]] == ["PERMITTED", "FORBIDDEN", "LOOKUP_FAILED"] and [s["identifier"]["value"] for s in r[0]["problem"]["subproblems"]] == ["www.issue-deny.lab", "a.servfail.lab"]'
	run 0 order --config "$cfg" issue-permit.lab www.nocaa.lab
	line 3 "ORDER  2 identifiers  all permitted"
	run 1 order --config "$cfg" --explain www.issue-deny.lab issue-permit.lab
	out_has "<- relevant RRset"
	out_has "ORDER  2 identifiers  1 not permitted: 1 forbidden"
	;;
lab-csr)
	need_lab
	make_csr "$tmp/req.pem" "DNS:issue-permit.lab,DNS:www.issue-deny.lab,IP:192.0.2.1,DNS:Issue-Permit.lab,email:x@issue-permit.lab"
	run 1 order --config "$cfg" --csr "$tmp/req.pem"
	line 1 "PERMITTED  issue-permit.lab"
	line 2 "FORBIDDEN  www.issue-deny.lab"
	line 3 "PERMITTED  192.0.2.1  relevant -  NOT_APPLICABLE"
	line 4 "ORDER  3 identifiers  1 not permitted: 1 forbidden"
	out_lines 5
	;;
lab-cert)
	# docs/failures.md 1: check a renewal ahead of time from the current certificate.
	need_lab
	make_cert "$tmp/current.pem" "DNS:a.nosoa.lab,DNS:*.wild1.lab,DNS:x.y.lame-sub.host.lab,IP:2001:db8::1"
	run 4 order --config "$cfg" --cert "$tmp/current.pem"
	line 1 "PERMITTED  a.nosoa.lab"
	line 2 "PERMITTED  *.wild1.lab"
	line 3 "LOOKUP_FAILED  x.y.lame-sub.host.lab"
	line 4 "PERMITTED  2001:db8::1"
	line 5 "ORDER  4 identifiers  1 not permitted: 1 lookup failed"
	line 6 "  urn:ietf:params:acme:error:dns (400) While processing CAA for x.y.lame-sub.host.lab: DNS problem: SERVFAIL"
	openssl x509 -in "$tmp/current.pem" -outform der -out "$tmp/current.der" || fail "openssl x509"
	# NAMEs and SANs together: duplicates (also across files) are checked once.
	run 4 check --config "$cfg" --cert "$tmp/current.der" a.nosoa.lab 2001:db8::1 '*.wild1.lab' \
		--cert "$tmp/current.pem"
	out_lines 5
	line 1 "PERMITTED  a.nosoa.lab"
	line 2 "PERMITTED  2001:db8::1"
	line 3 "PERMITTED  *.wild1.lab"
	line 4 "LOOKUP_FAILED  x.y.lame-sub.host.lab"
	;;
lab-cert-validator)
	# docs/integrations.md: a CA's "run a command" validator (EJBCA) runs
	# `caa check --cert FILE|-`: exit 0 and silent stderr only when every DNS
	# SAN is permitted; a refusal puts the order's problem on stderr.
	need_lab
	make_cert "$tmp/ok.pem" "DNS:issue-permit.lab,DNS:*.wild1.lab,DNS:www.nocaa.lab,IP:192.0.2.7"
	run 0 check --config "$cfg" --cert - <"$tmp/ok.pem"
	err_empty
	line 1 "PERMITTED  issue-permit.lab"
	line 2 "PERMITTED  *.wild1.lab  relevant wild1.lab  AUTHORIZED"
	line 4 "PERMITTED  192.0.2.7  relevant -  NOT_APPLICABLE"
	out_lines 4
	# a CSR through --cert, on stdin, DER
	make_csr "$tmp/ok.csr" "DNS:issue-permit.lab,DNS:a.b.issue-permit.lab"
	openssl req -in "$tmp/ok.csr" -outform der -out "$tmp/ok.csr.der" || fail "openssl req"
	run 0 check --config "$cfg" --cert - <"$tmp/ok.csr.der"
	err_empty
	out_lines 2
	# forbidden wildcard (issuewild denies) next to permitted names: exit 1
	make_cert "$tmp/deny.pem" "DNS:www.wild2.lab,DNS:*.wild2.lab,DNS:issue-permit.lab"
	run 1 check --config "$cfg" --cert "$tmp/deny.pem"
	line 1 "PERMITTED  www.wild2.lab"
	line 2 "FORBIDDEN  *.wild2.lab  relevant wild2.lab  NOT_AUTHORIZED"
	err_has "caa check: refused:"
	err_has "  urn:ietf:params:acme:error:caa (403) While processing CAA for *.wild2.lab: CAA record for wild2.lab prevents issuance"
	# forbidden and failed: 1 (final) wins over 4; the problem has both
	make_cert "$tmp/both.pem" "DNS:www.issue-deny.lab,DNS:a.servfail.lab"
	run 1 check --config "$cfg" --cert "$tmp/both.pem"
	err_has 'urn:ietf:params:acme:error:caa (403) Rechecking CAA for "www.issue-deny.lab" and 1 more identifiers failed'
	err_has "    urn:ietf:params:acme:error:dns (400) While processing CAA for a.servfail.lab: DNS problem: SERVFAIL"
	# a lookup failure alone: 4 (retry later), the problem on stderr
	make_csr "$tmp/fail.csr" "DNS:a.servfail.lab,DNS:issue-permit.lab"
	run 4 check --config "$cfg" --cert "$tmp/fail.csr"
	err_has "  urn:ietf:params:acme:error:dns (400) While processing CAA for a.servfail.lab: DNS problem: SERVFAIL"
	run 4 order --config "$cfg" --json --cert - <"$tmp/fail.csr"
	json_check '[x["verdict"] for x in r[0]["results"]] == ["LOOKUP_FAILED", "PERMITTED"]'
	err_has "caa order: refused:"
	# the CN is not a name to check: only SANs count
	openssl req -x509 -days 1 -key "$tmp/key.pem" -out "$tmp/cn.pem" -subj /CN=www.issue-deny.lab \
		-addext "subjectAltName=DNS:issue-permit.lab" 2>/dev/null || fail "openssl req -x509"
	run 0 check --config "$cfg" --cert "$tmp/cn.pem"
	out_lines 1
	err_empty
	;;
lab-issuer)
	# docs/cli.md "A first look": no config file, --issuer and the built-in
	# defaults; the lab's resolver through --unbound-conf.
	need_lab
	ub="$labdir/unbound.conf"
	run 0 check --issuer ca.example --unbound-conf "$ub" issue-permit.lab www.nocaa.lab
	err_empty
	line 1 "PERMITTED  issue-permit.lab  relevant issue-permit.lab  AUTHORIZED  dnssec secure"
	line 2 "PERMITTED  www.nocaa.lab  relevant -  NO_CAA  dnssec secure"
	run 1 check --issuer ca.example --unbound-conf "$ub" --trust-anchor "$labdir/root.key" \
		--explain www.issue-deny.lab
	line 1 "FORBIDDEN  www.issue-deny.lab  relevant issue-deny.lab  NOT_AUTHORIZED  dnssec secure"
	out_has '        0 issue "other-ca.example"   names another CA (ca.example is configured)'
	# another CA's view of the same record; several --issuer
	run 0 check --issuer ca.example --issuer Other-CA.example --unbound-conf "$ub" www.issue-deny.lab
	line 1 "PERMITTED  www.issue-deny.lab  relevant issue-deny.lab  AUTHORIZED"
	run 4 order --issuer ca.example --unbound-conf "$ub" issue-permit.lab a.servfail.lab
	line 3 "ORDER  2 identifiers  1 not permitted: 1 lookup failed"
	run 2 check --issuer ca_example --unbound-conf "$ub" issue-permit.lab
	err_has "issuer_domains"
	run 2 check --issuer ca.example --unbound-conf "$tmp/no-such.conf" issue-permit.lab
	err_has "no-such.conf"
	run 2 check --issuer ca.example --policy strict-critical --unbound-conf "$ub" critical.lab
	err_has "--policy strict-critical: no such profile in the built-in defaults"
	run 2 check --config "$cfg" --unbound-conf "$ub" issue-permit.lab
	err_has "--unbound-conf and --trust-anchor go with --issuer"
	run 2 check --issuer ca.example --server 127.0.0.1:1 issue-permit.lab
	err_has "--issuer, --config and --server exclude each other"
	;;
lab-validated-at)
	need_lab
	recent=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
	run 0 check --config "$cfg" --validated-at "$recent" --explain www.issue-deny.lab
	line 1 "PERMITTED  www.issue-deny.lab"
	out_has "  reused"
	out_has "inside the recheck window: no DNS queried"
	old=$(date -u -d '-8 hours' +%Y-%m-%dT%H:%M:%S.500+00:00)
	run 1 check --config "$cfg" --validated-at "$old" www.issue-deny.lab
	line 1 "FORBIDDEN  www.issue-deny.lab"
	out_lacks "reused"
	;;

# ---- through caad ----
server)
	need_lab
	start_caad
	names="issue-permit.lab www.issue-deny.lab critical.lab a.servfail.lab expired.lab 192.0.2.1"
	# The in-process run is held to the same promises: exit 1 (two refused,
	# two failed), nothing on stderr, every name answered.
	# shellcheck disable=SC2086
	run 1 check --config "$cfg" $names
	err_empty
	line 1 "PERMITTED  issue-permit.lab"
	out_has "FORBIDDEN  critical.lab"
	out_has "LOOKUP_FAILED  expired.lab"
	out_has "PERMITTED  192.0.2.1  relevant -  NOT_APPLICABLE"
	cp "$tmp/out" "$tmp/local.out"
	# shellcheck disable=SC2086
	run 1 check --server "$server" $names
	err_empty
	cmp -s "$tmp/local.out" "$tmp/out" || {
		diff "$tmp/local.out" "$tmp/out" >&2
		fail "--server and --config print different results"
	}
	run 1 check --server "$server" --explain www.issue-deny.lab a.servfail.lab
	out_has "    issue-deny.lab.       1 CAA      dnssec secure"
	out_has "<- relevant RRset"
	out_has '        0 issue "other-ca.example"   names another CA'
	out_has "    a.servfail.lab.   SERVFAIL   "
	out_has "<- lookup failed here: decides"
	run 4 check --server "$server" --json --explain expired.lab
	json_check 'r[0]["reason"] == "DNSSEC_BOGUS" and r[0]["trace"][0]["outcome"] == "BOGUS" and "signature expired" in r[0]["trace"][0]["why"]'
	run 1 order --server "$server" www.nocaa.lab www.issue-deny.lab a.servfail.lab
	line 4 "ORDER  3 identifiers  2 not permitted: 1 forbidden, 1 lookup failed"
	line 5 '  urn:ietf:params:acme:error:caa (403) Rechecking CAA for "www.issue-deny.lab" and 1 more'
	line 6 "    urn:ietf:params:acme:error:caa (403) While processing CAA for www.issue-deny.lab"
	line 7 "    urn:ietf:params:acme:error:dns (400) While processing CAA for a.servfail.lab"
	run 1 order --server "$server" --json www.issue-deny.lab issue-permit.lab
	json_check '[x["verdict"] for x in r[0]["results"]] == ["FORBIDDEN", "PERMITTED"] and r[0]["problem"]["status"] == 403'
	run 0 check --server "$server" --timeout 10s issue-permit.lab
	run 3 check --server "$server" --policy no-such-profile issue-permit.lab
	err_has "INVALID_ARGUMENT"
	# An account URI and an id naming different accounts: refused both ways,
	# though the URI alone is the one acct.lab authorises.
	acct=https://ca.example/acme/acct/1
	run 2 check --config "$cfg" --account-uri "$acct" --account-id 2 acct.lab
	out_empty
	err_has "caa check: --account-uri $acct and --account-id 2: the account URI and the account id name different accounts"
	run 2 order --config "$cfg" --account-uri "$acct" --account-id 2 acct.lab issue-permit.lab
	out_empty
	err_has "caa order: --account-uri $acct and --account-id 2: the account URI and the account id name different accounts"
	run 3 check --server "$server" --account-uri "$acct" --account-id 2 acct.lab
	out_empty
	err_has "INVALID_ARGUMENT: account_uri \"$acct\" and account_id 2: the account URI and the account id name different accounts"
	run 0 check --config "$cfg" --account-uri "$acct" --account-id 1 acct.lab
	cp "$tmp/out" "$tmp/local.out"
	run 0 check --server "$server" --account-uri "$acct" --account-id 1 acct.lab
	cmp -s "$tmp/local.out" "$tmp/out" || fail "--server and --config differ on agreeing forms"
	;;
server-tls)
	need_lab
	p="$tmp/pki"
	mkdir "$p"
	ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
	# shellcheck disable=SC2086
	{
		openssl req -x509 -days 1 $ec -keyout "$p/ca.key" -out "$p/ca.pem" -subj /CN=test-ca \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
		openssl req -new $ec -keyout "$p/srv.key" -out "$p/srv.csr" -subj /CN=caad &&
		printf 'subjectAltName=DNS:caad.test,IP:127.0.0.1\n' >"$p/srv.ext" &&
		openssl x509 -req -days 1 -in "$p/srv.csr" -CA "$p/ca.pem" -CAkey "$p/ca.key" \
			-CAcreateserial -out "$p/srv.pem" -extfile "$p/srv.ext" &&
		openssl req -new $ec -keyout "$p/cli.key" -out "$p/cli.csr" -subj /CN=ra &&
		printf 'extendedKeyUsage=clientAuth\n' >"$p/cli.ext" &&
		openssl x509 -req -days 1 -in "$p/cli.csr" -CA "$p/ca.pem" -CAkey "$p/ca.key" \
			-CAcreateserial -out "$p/cli.pem" -extfile "$p/cli.ext"
	} 2>"$tmp/openssl.err" || fail "openssl: $(cat "$tmp/openssl.err")"
	start_caad "{\"tls\": {\"cert\": \"$p/srv.pem\", \"key\": \"$p/srv.key\", \"client_ca\": \"$p/ca.pem\"}}"
	run 0 check --server "$server" --ca "$p/ca.pem" --tls-cert "$p/cli.pem" --tls-key "$p/cli.key" issue-permit.lab
	line 1 "PERMITTED  issue-permit.lab"
	run 1 order --server "localhost:$port" --server-name caad.test --ca "$p/ca.pem" \
		--tls-cert "$p/cli.pem" --tls-key "$p/cli.key" www.issue-deny.lab
	line 1 "FORBIDDEN  www.issue-deny.lab"
	# Without the client certificate, or without TLS: refused, exit 3.
	run 3 check --server "$server" --ca "$p/ca.pem" issue-permit.lab
	err_has "UNAVAILABLE"
	run 3 check --server "$server" issue-permit.lab
	run 2 check --server "$server" --ca "$tmp/none.pem" issue-permit.lab
	err_has "--ca $tmp/none.pem: No such file or directory"
	;;
server-mpic)
	# A primary with remote caads on loopback (docs/semantics.md §9), all on the one lab
	# view: r3 is a CA that only other-ca.example may issue for, so it disagrees
	# on issue-permit.lab; r4 is r2's address under another name (a mismatch).
	# Both quorums below need every remote's answer, so the counts are fixed.
	need_lab
	start_caad '{"perspective": {"name": "r1", "rir": "ARIN"}}' .r1
	r1=$server
	start_caad '{"perspective": {"name": "r2", "rir": "RIPE"}}' .r2
	r2=$server
	start_caad '{"issuer_domains": ["other-ca.example"], "perspective": {"name": "r3", "rir": "APNIC"}}' .r3
	r3=$server
	start_caad "{\"perspective\": {\"name\": \"p\", \"rir\": \"ARIN\", \"min_remotes\": 2, \"remote_timeout\": \"60s\", \"remotes\": [
		{\"name\": \"r1\", \"rir\": \"ARIN\", \"address\": \"$r1\"},
		{\"name\": \"r2\", \"rir\": \"RIPE\", \"address\": \"$r2\"}]}}" .agree
	agree=$server
	start_caad "{\"perspective\": {\"name\": \"p\", \"rir\": \"ARIN\", \"min_remotes\": 3, \"remote_timeout\": \"60s\", \"remotes\": [
		{\"name\": \"r1\", \"rir\": \"ARIN\", \"address\": \"$r1\"},
		{\"name\": \"r3\", \"rir\": \"APNIC\", \"address\": \"$r3\"},
		{\"name\": \"r4\", \"rir\": \"RIPE\", \"address\": \"$r2\"}]}}" .disagree
	disagree=$server
	acct=https://ca.example/acme/acct/1
	# Corroborated: the verdict line as always, then the count, even without
	# --explain. (Each call below differs in name or method: a repeat would be
	# reused from caad's window, and a reused result asks nobody.)
	run 0 check --server "$agree" --account-uri "$acct" --method dns-01 issue-permit.lab
	err_empty
	out_lines 2
	line 1 "PERMITTED  issue-permit.lab  relevant issue-permit.lab  AUTHORIZED  dnssec secure"
	line 2 "  perspectives 2/2 corroborated"
	run 0 check --server "$agree" --account-uri "$acct" --method http-01 --explain issue-permit.lab
	line 2 "  perspectives 2/2 corroborated"
	out_has "    perspective r1 (ARIN)   CORROBORATED   PERMITTED   "
	out_has "    perspective r2 (RIPE)   CORROBORATED   PERMITTED   "
	run 0 check --server "$agree" --account-uri "$acct" --method tls-alpn-01 --json issue-permit.lab
	json_check 'r[0]["quorum"] == "2/2" and [(p["name"], p["rir"], p["outcome"], p["verdict"]) for p in r[0]["perspectives"]] == [("r1", "ARIN", "CORROBORATED", "PERMITTED"), ("r2", "RIPE", "CORROBORATED", "PERMITTED")] and all(p["elapsedMs"] > 0 and "problem" not in p for p in r[0]["perspectives"])'
	run 0 order --server "$agree" --account-uri "$acct" --method dns-01 www.nocaa.lab a.b.issue-permit.lab
	out_lines 5
	line 2 "  perspectives 2/2 corroborated"
	line 4 "  perspectives 2/2 corroborated"
	line 5 "ORDER  2 identifiers  all permitted"
	# Not corroborated: r3's problem (the first failing remote in configured
	# order), 1 of 3, exit 1.
	run 1 check --server "$disagree" --account-uri "$acct" --method dns-01 issue-permit.lab
	err_empty
	out_lines 3
	line 1 "FORBIDDEN  issue-permit.lab  relevant issue-permit.lab  NOT_CORROBORATED  dnssec secure"
	line 2 "  urn:ietf:params:acme:error:caa (403) During secondary validation: While processing CAA for issue-permit.lab: CAA record for issue-permit.lab prevents issuance"
	line 3 "  perspectives 1/3 corroborated"
	run 1 check --server "$disagree" --account-uri "$acct" --method dns-01 --explain issue-permit.lab
	line 3 "  perspectives 1/3 corroborated"
	out_has "    perspective r1 (ARIN)    CORROBORATED   PERMITTED       "
	out_has "    perspective r3 (APNIC)   PROBLEM        FORBIDDEN       "
	out_has "      urn:ietf:params:acme:error:caa (403) During secondary validation: While processing CAA for issue-permit.lab: CAA record for issue-permit.lab prevents issuance"
	out_has "    perspective r4 (RIPE)    MISMATCH       LOOKUP_FAILED   "
	out_has "      urn:ietf:params:acme:error:serverInternal (500) During secondary validation: remote perspective r4 reported r2 (RIPE), expected r4 (RIPE)"
	run 1 check --server "$disagree" --account-uri "$acct" --method dns-01 --json issue-permit.lab
	json_check 'r[0]["verdict"] == "FORBIDDEN" and r[0]["reason"] == "NOT_CORROBORATED" and r[0]["quorum"] == "1/3" and [p["outcome"] for p in r[0]["perspectives"]] == ["CORROBORATED", "PROBLEM", "MISMATCH"] and r[0]["perspectives"][1]["problem"]["status"] == 403 and r[0]["perspectives"][2]["problem"]["status"] == 500'
	# A local refusal asks nobody: no perspectives.
	run 1 check --server "$disagree" --account-uri "$acct" --method dns-01 www.issue-deny.lab
	out_lines 2
	out_lacks "perspectives"
	;;
*)
	fail "unknown case"
	;;
esac
exit 0
