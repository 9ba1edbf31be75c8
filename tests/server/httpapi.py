#!/usr/bin/env python3
"""httpapi.py — the HTTP/JSON API (docs/api.md#http) end to end, as a CA in
any language would use it: Python's standard library (urllib, http.client)
and curl against a caad on the server tests' lab. Permitted, forbidden, an
order and an evaluate; malformed JSON, an unknown field, a wrong type, a bad
identifier, a wrong content type, an oversized body and a bad Request-Timeout
answered 4xx with the JSON error body naming the field; the same requests
over gRPC (the caa CLI's --json) and over HTTP give the same answers; audit
lines and metrics; caad keeps serving and exits cleanly.

usage: httpapi.py --caad CAAD --caa CAA --lab LABDIR --schema docs/audit.schema.json
"""
import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)




def start_caad(caad, lab, work, dns=None):
    cfg = json.load(open(os.path.join(lab, "caa.json")))
    cfg["dns"].update(dns or {})
    cfg["listen"] = "127.0.0.1:0"
    cfg["metrics_listen"] = "127.0.0.1:0"
    cfg["http"] = {"listen": "127.0.0.1:0"}
    # every answer from DNS, so the same question over gRPC and HTTP gets
    # the same answer (a reused one carries only the deciding record)
    cfg["recheck_window"] = "0s"
    path = os.path.join(work, "caad.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    log = open(os.path.join(work, "caad.log"), "w+")
    proc = subprocess.Popen([caad, "--config", path], stderr=log)
    deadline = time.monotonic() + 30  # hang bound, not a timing assertion
    while time.monotonic() < deadline:
        log.seek(0)
        for line in log:
            j = json.loads(line)
            if j.get("msg") == "listening":
                return proc, log, j
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    sys.exit("caad did not start:\n" + log.read())


def post(port, path, body, ctype="application/json", headers=None):
    """(status, parsed JSON body) of one POST with urllib."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                 method="POST", headers=dict(headers or {}))
    if ctype is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")


def strip(v):
    """What differs between two checks of the same name: times, and the
    number of queries (a SERVFAIL is retried a varying number of times), the
    order of records."""
    if isinstance(v, dict):
        d = {k: strip(x) for k, x in v.items() if k not in ("elapsedMs", "checkedAt", "queries")}
        if "records" in d:  # an RRset has no order
            d["records"] = sorted(d["records"], key=lambda r: json.dumps(r, sort_keys=True))
        return d
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def refused(port, path, body, status, code, text, ctype="application/json", headers=None):
    got, j = post(port, path, body, ctype, headers)
    ok = (got == status and isinstance(j, dict) and j.get("code") == code and
          text in j.get("message", ""))
    check(ok, "%s %r: want %d %s %r, got %d %r" % (path, str(body)[:80], status, code, text, got, j))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--caad", required=True)
    ap.add_argument("--caa", required=True)
    ap.add_argument("--lab", required=True)
    ap.add_argument("--schema", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="caad-httpapi-")
    proc, log, listening = start_caad(a.caad, a.lab, work)
    port, grpc, metrics = listening["http_port"], listening["port"], listening["metrics_port"]
    try:
        run(a, port, grpc, metrics, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        check(rc == 0, "caad exit status %d after SIGTERM" % rc)
    schema_check(a.schema, log)
    shutdown_case(a, tempfile.mkdtemp(prefix="caad-httpapi-"))
    if FAILURES:
        log.seek(0)
        sys.stderr.write(log.read()[-4000:])
        sys.exit(1)
    print("httpapi: all cases passed")


def shutdown_case(a, work):
    """SIGTERM while an HTTP check is still running: its answer still goes out
    and caad exits 0, however long the check may take (before: a check still
    due after 30 s, which dns.timeout allows, made MHD_stop_daemon abort caad
    on its suspended connection); a kept-alive connection's next request gets
    503. dns.timeout 8 s keeps the test short: the wait has no cap to exceed."""
    import threading
    proc, log, listening = start_caad(a.caad, a.lab, work, {
        "timeout": "8s", "query_timeout": "2s", "retries": 3})
    port = listening["http_port"]
    keep = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
    hdr = {"Content-Type": "application/json"}
    keep.request("POST", "/v1/check", body=b'{"identifier": {"value": "issue-permit.lab"}}',
                 headers=hdr)
    r = keep.getresponse()
    check(r.status == 200 and json.loads(r.read()).get("verdict") == "PERMITTED",
          "shutdown: kept-alive connection's first request")
    slow = {}

    def slow_check():
        # a silent server: seconds of retries, no Request-Timeout
        slow["answer"] = post(port, "/v1/check", {"identifier": {"value": "x.drop.lab"}})
    t = threading.Thread(target=slow_check)
    t.start()
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    time.sleep(1)
    try:
        keep.request("POST", "/v1/check", body=b'{"identifier": {"value": "issue-permit.lab"}}',
                     headers=hdr)
        r = keep.getresponse()
        got = (r.status, r.read())
    except (http.client.HTTPException, OSError) as e:
        got = (None, repr(e))
    check(got[0] == 503 and b"UNAVAILABLE" in got[1],
          "shutdown: a new request on an open connection: %r" % (got,))
    keep.close()
    t.join(90)
    s, j = slow.get("answer", (None, None))
    check(s == 200 and j.get("verdict") == "LOOKUP_FAILED",
          "shutdown: the check still running is answered: %r %r" % (s, j))
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "hung"
    log.seek(0)
    check(rc == 0, "shutdown: caad exit status %r with an HTTP check due:\n%s" %
          (rc, log.read()[-2000:]))
    log.seek(0)
    draining = [json.loads(l) for l in log if '"msg":"draining"' in l]
    check(len(draining) == 1 and draining[0].get("http_calls") == 1,
          "shutdown: the draining line counts the HTTP call in flight: %r" % draining)
    schema_check(a.schema, log)


def schema_check(schema_path, log):
    """Every line caad wrote is valid against docs/audit.schema.json."""
    import jsonschema
    v = jsonschema.Draft202012Validator(json.load(open(schema_path)))
    log.flush()
    log.seek(0)
    n = 0
    for no, line in enumerate(log, 1):
        n += 1
        errs = [e.message for e in v.iter_errors(json.loads(line))]
        check(not errs, "log line %d not valid against the schema: %s: %s" % (no, errs, line))
    check(n > 0, "no log lines")


def grpc_json(a, grpc, cmd, names):
    out = subprocess.run([a.caa, cmd, "--server", "127.0.0.1:%d" % grpc, "--json"] + names,
                         capture_output=True, text=True, timeout=120)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def run(a, port, grpc, metrics, log):
    # permitted, forbidden
    s, j = post(port, "/v1/check", {"identifier": {"type": "dns", "value": "issue-permit.lab"}})
    check(s == 200 and j.get("verdict") == "PERMITTED" and j.get("reason") == "AUTHORIZED",
          "permitted: %d %r" % (s, j))
    s, j = post(port, "/v1/check", {"identifier": {"value": "www.issue-deny.lab"},
                                    "validation_method": "dns-01", "explain": True})
    check(s == 200 and j.get("verdict") == "FORBIDDEN" and
          j.get("problem", {}).get("status") == 403 and len(j.get("trace", [])) == 3,
          "forbidden: %d %r" % (s, j))
    # numbers as people write them: 0.056, not 0.056000000000000001
    req = urllib.request.Request("http://127.0.0.1:%d/v1/check" % port, method="POST",
                                 data=b'{"identifier": {"value": "issue-permit.lab"}}',
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        raw = r.read().decode()
    ms = re.search(r'"elapsedMs":([-0-9.eE+]+)', raw)
    check(ms is not None and len(ms.group(1).lstrip("-").replace(".", "")) <= 16,
          "elapsedMs printed with at most 15 significant digits: %r" % raw)
    # an order
    s, j = post(port, "/v1/check-order", {"authorizations": [
        {"identifier": {"value": "issue-permit.lab"}},
        {"identifier": {"value": "www.issue-deny.lab"}, "accountUri":
         "https://ca.example/acme/acct/7", "accountId": "7"}]})
    check(s == 200 and [r.get("verdict") for r in j.get("results", [])] ==
          ["PERMITTED", "FORBIDDEN"] and "problem" in j, "order: %d %r" % (s, j))
    # evaluate: no DNS
    s, j = post(port, "/v1/evaluate", {"identifier": {"value": "shop.eval.example"}, "labels": [
        {"name": "eval.example", "records": [{"tag": "issue", "value": "ca.example"}],
         "dnssec": "SECURE"}]})
    check(s == 200 and j.get("result", {}).get("verdict") == "PERMITTED" and
          j["result"].get("relevantDomain") == "eval.example", "evaluate: %d %r" % (s, j))

    # refusals: status, code and the field named
    refused(port, "/v1/check", b'{"identifier": ', 400, "INVALID_ARGUMENT", "request: not JSON")
    refused(port, "/v1/check", b'', 400, "INVALID_ARGUMENT", "request: not JSON")
    refused(port, "/v1/check", {"identifier": {"valu": "x.lab"}}, 400, "INVALID_ARGUMENT",
            "identifier.valu: unknown field")
    refused(port, "/v1/check", {"identifier": {"value": "x.lab"}, "explain": "yes"}, 400,
            "INVALID_ARGUMENT", "explain: expected true or false, got a string")
    refused(port, "/v1/check-order", {"authorizations": [{}, {"identifier": 5}]}, 400,
            "INVALID_ARGUMENT", "authorizations[1].identifier: expected an object")
    # the gRPC method's own validation, word for word
    refused(port, "/v1/check", {"identifier": {"value": "a..b.lab"}}, 400, "INVALID_ARGUMENT",
            'identifier.value "a..b.lab": ')
    # a NUL would be cut off by protobuf-c's packing: the name checked is not the one asked
    refused(port, "/v1/check", {"identifier": {"value": "issue-permit.lab\u0000.issue-deny.lab"}},
            400, "INVALID_ARGUMENT", "identifier.value: has a NUL")
    refused(port, "/v1/check-order", {"authorizations": [{"identifier": {
        "value": "issue-permit.lab\u0000"}}]}, 400, "INVALID_ARGUMENT",
            "authorizations[0].identifier.value: has a NUL")
    refused(port, "/v1/check", {"identifier": {"value": "a.lab"},
                                "validationMethod": "email-01"}, 400, "INVALID_ARGUMENT",
            "validation_method")
    refused(port, "/v1/check-order", {"authorizations": []}, 400, "INVALID_ARGUMENT", "")
    refused(port, "/v1/evaluate", {"identifier": {"value": "x.example"},
                                   "labels": [{"name": "x.example", "error": "BAD"}]},
            400, "INVALID_ARGUMENT", "labels[0].error")
    refused(port, "/v1/check", {"identifier": {"value": "x.lab"}}, 415, "INVALID_ARGUMENT",
            "Content-Type", ctype="text/plain")
    refused(port, "/v1/check", {"identifier": {"value": "x.lab"}}, 415, "INVALID_ARGUMENT",
            "Content-Type", ctype=None)
    # oversized: refused on its Content-Length before the body is read (a
    # client still sending it would see the connection close: curl sends
    # "Expect: 100-continue" and reads the 413 instead)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.putrequest("POST", "/v1/check")
    c.putheader("Content-Type", "application/json")
    c.putheader("Content-Length", str(1024 * 1024 + 1))
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    check(r.status == 413 and json.loads(body).get("code") == "RESOURCE_EXHAUSTED" and
          "request body too large" in json.loads(body).get("message", ""),
          "oversized: %d %r" % (r.status, body))
    c.close()
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                          "Content-Type: application/json", "--data-binary", "@-",
                          "http://127.0.0.1:%d/v1/check" % port],
                         input=b'{"policy": "' + b"x" * (1024 * 1024) + b'"}',
                         capture_output=True, timeout=60)
    check(out.stdout == b"413", "curl oversized: %r %r" % (out.stdout, out.stderr))
    refused(port, "/v1/check", {"identifier": {"value": "x.lab"}}, 400, "INVALID_ARGUMENT",
            "Request-Timeout", headers={"Request-Timeout": "soon"})
    refused(port, "/v1/check", {"identifier": {"value": "issue-permit.lab"}}, 504,
            "DEADLINE_EXCEEDED", "deadline", headers={"Request-Timeout": "0"})
    s, j = post(port, "/v1/check", {"identifier": {"value": "issue-permit.lab"}},
                headers={"Request-Timeout": "30000"})
    check(s == 200 and j.get("verdict") == "PERMITTED", "Request-Timeout 30000: %d %r" % (s, j))
    # a GET, an unknown path (http.client: exact methods)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/v1/check")
    r = c.getresponse()
    r.read()
    check(r.status == 405, "GET /v1/check: %d" % r.status)
    c.request("POST", "/v1/nothing", body=b"{}", headers={"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    check(r.status == 404 and json.loads(body).get("code") == "NOT_FOUND",
          "POST /v1/nothing: %d %r" % (r.status, body))
    c.close()

    # gRPC and HTTP: the same answers
    names = ["issue-permit.lab", "www.issue-deny.lab", "a.servfail.lab", "www.nocaa.lab",
             "*.wild1.lab", "acct.lab"]
    via_grpc = grpc_json(a, grpc, "check", names)
    check(len(via_grpc) == len(names), "caa check --json: %r" % via_grpc)
    for name, g in zip(names, via_grpc):
        s, h = post(port, "/v1/check", {"identifier": {"value": name}})
        check(s == 200 and strip(h) == strip(g),
              "%s: gRPC and HTTP differ:\n  %r\n  %r" % (name, strip(g), strip(h)))
    via_grpc = grpc_json(a, grpc, "order", names[:4])
    s, h = post(port, "/v1/check-order",
                {"authorizations": [{"identifier": {"value": n}} for n in names[:4]]})
    check(len(via_grpc) == 1 and s == 200 and strip(h) == strip(via_grpc[0]),
          "order: gRPC and HTTP differ:\n  %r\n  %r" % (via_grpc, h))

    # curl, as the docs show it
    out = subprocess.run(["curl", "-sS", "--fail-with-body", "-H",
                          "Content-Type: application/json", "--data",
                          '{"identifier": {"value": "www.issue-deny.lab"}}',
                          "http://127.0.0.1:%d/v1/check" % port],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0 and json.loads(out.stdout).get("verdict") == "FORBIDDEN",
          "curl: %d %r %r" % (out.returncode, out.stdout, out.stderr))
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                          "Content-Type: application/json", "--data", '{"identifer": {}}',
                          "http://127.0.0.1:%d/v1/check" % port],
                         capture_output=True, text=True, timeout=60)
    check(out.stdout == "400", "curl unknown field: %r" % out.stdout)

    # a client that leaves before its answer: the audit line records no
    # verdict as answered (docs/caad.md#audit: "answered": false)
    import socket
    body = b'{"identifier": {"value": "gone.drop.lab"}}'
    sk = socket.create_connection(("127.0.0.1", port), timeout=60)
    sk.sendall(b"POST /v1/check HTTP/1.1\r\nHost: caad\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    time.sleep(0.3)  # the check has started (the drop server never answers)
    sk.close()
    gone = None
    deadline = time.monotonic() + 60  # hang bound: dns.timeout ends the check
    while gone is None and time.monotonic() < deadline:
        log.seek(0)
        gone = next((json.loads(l) for l in log if '"gone.drop.lab"' in l), None)
        time.sleep(0.1)
    check(gone is not None and gone.get("answered") is False and
          "closed the connection" in gone.get("error", "") and "verdict" not in gone,
          "a client gone before the answer: %r" % gone)

    # audit lines and metrics as for gRPC
    log.flush()
    log.seek(0)
    audit = [json.loads(l) for l in log if '"msg":"check"' in l]
    check(any(l.get("peer", "").startswith("ipv4:127.0.0.1:") and l.get("rpc") == "HTTP.CheckOrder"
              for l in audit), "no audit line of an HTTP order")
    check(not any(l.get("rpc") == "HTTP.Evaluate" for l in audit),
          "an evaluate (no DNS) writes no check line")
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=60) as r:
        page = r.read().decode()
    for want in ('caad_rpc_total{method="HTTP.Check",code="OK"}',
                 'caad_rpc_total{method="HTTP.Check",code="INVALID_ARGUMENT"}',
                 'caad_rpc_total{method="HTTP.CheckOrder",code="OK"}',
                 'caad_rpc_total{method="HTTP.Evaluate",code="OK"}',
                 'caad_rpc_total{method="HTTP.Check",code="DEADLINE_EXCEEDED"}'):
        check(want in page, "metrics: no %s" % want)

    # still serving, both ways
    s, j = post(port, "/v1/check", {"identifier": {"value": "issue-permit.lab"}})
    check(s == 200 and j.get("verdict") == "PERMITTED", "after the refusals: %d %r" % (s, j))
    check(len(grpc_json(a, grpc, "check", ["issue-permit.lab"])) == 1, "gRPC after the refusals")


if __name__ == "__main__":
    main()
