#!/usr/bin/env bash
# conformance.sh caad|boulder CAAD CAA LABDIR — `caa-lab conformance` (docs/conformance.md)
# against a running lab (tests/lab/run.sh brings it up and appends LABDIR).
#   caad:    caad scores 100 % on the scenarios that are not room, through DoCAA
#            (started by --start), caa.v1 and --cmd with the caa CLI (JSON verdicts);
#            a checker that always permits is caught (exit 1, disagreements listed);
#            the JSON and JUnit outputs parse.
#   boulder: the same run against Boulder's own DoCAA (the anchor, single perspective);
#            exit 77 without it (CAAD_BOULDER_ANCHOR or ../shared/anchors/boulder).
#            Prints Boulder's table; its disagreements are published in docs/conformance.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lab="$here/../../deploy/lab/caa-lab"
mode=$1 caad=$2 caa=$3 dir=$4
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
out="$dir/conformance"
mkdir -p "$out"
pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# results FILE.json FILE.xml WANT_DIFFER: both outputs parse and agree with each other;
# WANT_DIFFER 0: score 100 % on the scored scenarios; "some": at least one disagreement.
results() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1]))
s = j["summary"]
root = ET.parse(sys.argv[2]).getroot()
cases = root.findall("./testsuite/testcase")
assert len(cases) == len(j["scenarios"]), (len(cases), len(j["scenarios"]))
fails = len(root.findall("./testsuite/testcase/failure"))
assert fails == s["differ"], (fails, s["differ"])
assert s["scored"] + s["room"] + s["skipped"] == len(j["scenarios"])
assert s["scored"] >= 100, s
if sys.argv[3] == "0":
    bad = [r["name"] for r in j["scenarios"] if r["status"] == "differ" and "room" not in r]
    assert s["score"] == 100.0 and not bad, bad
    assert s["room_agree"] == s["room"], [r["name"] for r in j["scenarios"] if "room" in r and r["status"] != "agree"]
else:
    assert s["differ"] > 0 and s["unsafe"] > 0, s
print("%d/%d scored agree, room %d/%d, %d skipped, %d testcases in the JUnit file" % (
    s["agree"], s["scored"], s["room_agree"], s["room"], s["skipped"], len(cases)))
PY
}

if [ "$mode" = boulder ]; then
	anchor=${CAAD_BOULDER_ANCHOR:-$here/../../../shared/anchors/boulder/bin/boulder-caa-anchor}
	[ -x "$anchor" ] || { echo "SKIP: no Boulder anchor at $anchor (set CAAD_BOULDER_ANCHOR)"; exit 77; }
	"$lab" resolver "$dir" >/dev/null || { echo "FAIL: the lab's resolver did not start"; exit 1; }
	port=$(freeport)
	# Boulder as the lab's CA: issuer ca.example, accounts https://ca.example/acme/acct/<id>,
	# its resolver the lab's validating unbound ({resolver}); 1 s per DNS try as Boulder's dev config.
	"$lab" conformance --lab "$dir" --docaa "127.0.0.1:$port" \
		--start "$anchor -listen 127.0.0.1:$port -resolver {resolver} -issuer-domain ca.example -account-uri-prefix https://ca.example/acme/acct/ -perspective boulder -rir ARIN -dns-timeout 1s -log-level -1" \
		--json "$out/boulder.json" --junit "$out/boulder.xml" | tee "$out/boulder.txt"
	rc=${PIPESTATUS[0]}
	case $rc in 0 | 1) ok "conformance run against Boulder's DoCAA: exit $rc" ;; *) fail "conformance against Boulder: exit $rc" ;; esac
	if res=$(results "$out/boulder.json" "$out/boulder.xml" some 2>&1); then ok "Boulder: $res"; else
		# a Boulder that agrees everywhere would be news, not a failure
		ok "Boulder's outputs: $res"
	fi
	cp "$out/boulder.json" "${CAAD_CONFORMANCE_OUT:-/tmp}/conformance-boulder.json" 2>/dev/null || true
	[ "$failures" = 0 ] && exit 0 || exit 1
fi

# caad on the lab's own config (its libunbound climbs from the lab's root).
conf() { # PORT FILE
	/usr/bin/python3 - "$dir/caa.json" "$1" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["listen"] = "127.0.0.1:" + sys.argv[2]
json.dump(c, open(sys.argv[3], "w"), indent=1)
PY
}
p1=$(freeport)
conf "$p1" "$out/caad-docaa.json"
"$lab" conformance --lab "$dir" --docaa "127.0.0.1:$p1" --start "$caad --config $out/caad-docaa.json" \
	--json "$out/docaa.json" --junit "$out/docaa.xml" >"$out/docaa.txt" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "caad via DoCAA (--start): exit 0"; else fail "caad via DoCAA: exit $rc"; cat "$out/docaa.txt"; fi
if res=$(results "$out/docaa.json" "$out/docaa.xml" 0 2>&1); then ok "DoCAA: $res"; else fail "DoCAA: $res"; fi

p2=$(freeport)
conf "$p2" "$out/caad.json"
"$caad" --config "$out/caad.json" >"$out/caad.log" 2>&1 &
pids+=($!)
"$lab" conformance --lab "$dir" --caa-v1 "127.0.0.1:$p2" \
	--json "$out/v1.json" --junit "$out/v1.xml" >"$out/v1.txt" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "caad via caa.v1: exit 0"; else fail "caad via caa.v1: exit $rc"; cat "$out/v1.txt"; fi
if res=$(results "$out/v1.json" "$out/v1.xml" 0 2>&1); then ok "caa.v1: $res"; else fail "caa.v1: $res"; fi

"$lab" conformance --lab "$dir" --cmd-json \
	--cmd "$caa check --server 127.0.0.1:$p2 --json --account-uri {account_uri} --method {method} {name}" \
	--json "$out/cmd.json" --junit "$out/cmd.xml" >"$out/cmd.txt" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "caa check via --cmd --cmd-json: exit 0"; else fail "caa check via --cmd: exit $rc"; cat "$out/cmd.txt"; fi
if res=$(results "$out/cmd.json" "$out/cmd.xml" 0 2>&1); then ok "--cmd: $res"; else fail "--cmd: $res"; fi

# caa.v1 over mutual TLS: --ca, --cert, --key, --server-name (a throwaway CA, as Boulder's
# ipki: the server's name is not its address).
tls="$out/tls"
mkdir -p "$tls"
if (
	cd "$tls" || exit 1
	ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -subj /CN=conformance-ca -days 2 &&
		for n in server client; do
			openssl req "${ec[@]}" -keyout $n.key -out $n.csr -subj "/CN=$n.conformance.test" &&
				printf 'subjectAltName=DNS:%s.conformance.test\nextendedKeyUsage=%sAuth\n' $n $n >$n.ext &&
				openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
					-extfile $n.ext -out $n.pem || exit 1
		done
) >"$tls/openssl.log" 2>&1; then
	p3=$(freeport)
	/usr/bin/python3 - "$out/caad.json" "$p3" "$tls" "$out/caad-tls.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
t = sys.argv[3]
c["listen"] = "127.0.0.1:" + sys.argv[2]
c["tls"] = {"cert": t + "/server.pem", "key": t + "/server.key", "client_ca": t + "/ca.pem"}
json.dump(c, open(sys.argv[4], "w"), indent=1)
PY
	"$lab" conformance --lab "$dir" --caa-v1 "127.0.0.1:$p3" --start "$caad --config $out/caad-tls.json" \
		--ca "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client.key" \
		--server-name server.conformance.test --only rule,rfc8657 --json "$out/tls.json" \
		>"$out/tls.txt" 2>&1
	rc=$?
	if [ $rc = 0 ] && /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; assert s["agree"] >= 30 and s["differ"] == 0, s' "$out/tls.json"; then
		ok "caad via caa.v1 over mutual TLS (--ca --cert --key --server-name): exit 0"
	else
		fail "caa.v1 over mutual TLS: exit $rc"
		cat "$out/tls.txt"
	fi
else
	fail "openssl could not make the test certificates: $(tail -5 "$tls/openssl.log")"
fi

# A checker that always permits (exit status 0) is caught.
"$lab" conformance --lab "$dir" --cmd true --json "$out/wrong.json" --junit "$out/wrong.xml" \
	>"$out/wrong.txt" 2>&1
rc=$?
if [ $rc = 1 ]; then ok "an always-permitting checker: exit 1"; else fail "an always-permitting checker: exit $rc"; fi
if grep -q "^  unsafe   issue-deny \[" "$out/wrong.txt" && grep -q "^disagreements (" "$out/wrong.txt"; then
	ok "its disagreements are listed (issue-deny among them)"
else
	fail "no disagreement list in: $(head -40 "$out/wrong.txt")"
fi
if res=$(results "$out/wrong.json" "$out/wrong.xml" some 2>&1); then ok "always-permit: $res"; else fail "always-permit: $res"; fi

# Usage errors are exit 2, an endpoint that does not answer exit 3.
"$lab" conformance --lab "$dir" >/dev/null 2>&1
rc=$?
if [ $rc = 2 ]; then ok "no checker: exit 2"; else fail "no checker: exit $rc, not 2"; fi
"$lab" conformance --lab "$dir" --caa-v1 "127.0.0.1:$(freeport)" >/dev/null 2>&1
rc=$?
if [ $rc = 3 ]; then ok "nothing listening: exit 3"; else fail "nothing listening: exit $rc, not 3"; fi

[ "$failures" = 0 ] && echo "all conformance checks passed" && exit 0
echo "$failures conformance checks failed"
exit 1
