#!/usr/bin/env python3
"""step-ca AUTHORIZING webhook against a real caad over HTTPS (docs/integrations.md),
and the JSON API over the same HTTPS and mTLS listener (docs/api.md).

t_webhook.py --caad BIN --lab DIR [--tmp DIR]

The client signs exactly as step-ca does (smallstep/certificates
authority/provisioner/webhook.go): the body is json.Marshal of
webhook.RequestBody with "timestamp" set just before sending, and
X-Smallstep-Signature = hex(HMAC-SHA256(base64-decoded secret, raw body)),
X-Smallstep-Webhook-ID = the webhook's id. Standard library only.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)


def make_certs(d):
    """A CA, caad's server certificate (127.0.0.1) and a client certificate."""
    script = r"""
set -e
exec 2>>openssl.log
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
  -out ca.pem -days 2 -subj /CN=webhook-test-ca
leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1.key -out $1.csr \
    -subj "$2"
  printf 'extendedKeyUsage=%s\nsubjectAltName=%s\n' "$3" "$4" >$1.ext
  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $1.pem -days 2 \
    -extfile $1.ext
}
leaf server /CN=caad serverAuth IP:127.0.0.1
leaf client /CN=step-ca clientAuth DNS:step-ca.example
"""
    subprocess.run(["sh", "-c", script], cwd=d, check=True)


class Caad:
    """caad as a child: its log lines on a queue, its ports from "listening"."""

    def __init__(self, binary, cfg_path):
        self.lines = []
        self.q = queue.Queue()
        self.p = subprocess.Popen([binary, "--config", cfg_path], stderr=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        self.listening = self.wait("listening", 60)
        if self.listening is None:
            raise RuntimeError("caad did not start:\n" + "\n".join(map(str, self.lines)))
        self.port = self.listening["http_port"]

    def _read(self):
        for raw in self.p.stderr:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"msg": "raw", "text": raw.decode(errors="replace")}
            self.lines.append(line)
            self.q.put(line)
        self.q.put(None)

    def wait(self, msg, timeout):
        try:
            while True:
                line = self.q.get(timeout=timeout)
                if line is None:
                    return None
                if line.get("msg") == msg:
                    return line
        except queue.Empty:
            return None

    def checks(self):
        return [l for l in self.lines if l.get("msg") == "check"]

    def wait_checks(self, pred, n, timeout=30):
        """The check lines pred accepts, once there are n of them (or the
        hang bound passed): a line is written before its answer is sent,
        but read from caad's stderr by another thread."""
        deadline = time.monotonic() + timeout
        while True:
            got = [l for l in self.checks() if pred(l)]
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def stop(self):
        self.p.terminate()
        try:
            return self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -1


def go_time(t):
    """time.Time as Go's encoding/json writes it (RFC 3339, nanoseconds)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d000" % t.microsecond + (
        "Z" if t.utcoffset() == datetime.timedelta(0) else t.strftime("%z")[:3] + ":" +
        t.strftime("%z")[3:])


def body_for(names, sans=None, when=None, cert=True):
    """webhook.RequestBody of an X.509 AUTHORIZING call, as step-ca marshals it."""
    now = when or datetime.datetime.now(datetime.timezone.utc)
    b = {"timestamp": go_time(now), "provisionerName": "acme"}
    if cert:
        b["x509Certificate"] = {
            "version": 0,
            "subject": {"commonName": names[0] if names else "client"},
            "issuer": {},
            "dnsNames": names,
            "emailAddresses": None,
            "ipAddresses": None,
            "uris": None,
            "sans": sans if sans is not None else [{"type": "dns", "value": n} for n in names],
            "notBefore": "0001-01-01T00:00:00Z",
            "notAfter": "0001-01-01T00:00:00Z",
            "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
            "publicKeyAlgorithm": "ECDSA",
            "raw": None,
        }
    # Go's json.Marshal: compact, no spaces
    return json.dumps(b, separators=(",", ":")).encode()


def sign(secret_b64, raw):
    return hmac.new(base64.b64decode(secret_b64), raw, hashlib.sha256).hexdigest()


def post(port, ctx, path, raw, headers):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    try:
        c.request("POST", path, body=raw, headers=dict({"Content-Type": "application/json"},
                                                        **headers))
        r = c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data
    finally:
        c.close()


def step_post(port, ctx, name, secret, raw):
    return post(port, ctx, "/webhooks/" + name, raw, {
        "X-Smallstep-Signature": sign(secret, raw),
        "X-Smallstep-Webhook-ID": "0f5e3a52-7c5b-4d0e-9b52-6b0e3c7e6a01",
    })


def config(lab, tmp, secret_file, client_ca):
    with open(os.path.join(lab, "caa.json")) as f:
        cfg = json.load(f)
    cfg["listen"] = "127.0.0.1:0"
    cfg["http"] = {"listen": "127.0.0.1:0",
                   "tls": {"cert": os.path.join(tmp, "server.pem"),
                           "key": os.path.join(tmp, "server.key")}}
    if client_ca:
        cfg["http"]["tls"]["client_ca"] = os.path.join(tmp, "ca.pem")
    cfg["webhooks"] = [
        {"name": "caa", "secret_file": secret_file,
         "account_uri": "https://ca.example/acme/acct/1"},
        {"name": "acct2", "secret_file": secret_file,
         "account_uri": "https://ca.example/acme/acct/2", "validation_method": "dns-01"},
    ]
    path = os.path.join(tmp, "caad-mtls.json" if client_ca else "caad.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def sentinel(caad, port, ctx, secret, name):
    """A permitted check of name, and its audit line read."""
    st, r = step_post(port, ctx, "caa", secret, body_for([name]))
    check(st == 200 and r == {"allow": True}, "sentinel %s: %s %s" % (name, st, r))
    got = caad.wait_checks(lambda l: l.get("identifier") == name, 1)
    check(len(got) == 1, "the sentinel's audit line: %s" % name)


def tls_cases(caad, tmp, secret):
    ctx = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
    port = caad.port

    # a permitted order (two names, one found by climbing): allow true
    st, r = step_post(port, ctx, "caa", secret,
                      body_for(["issue-permit.lab", "a.b.issue-permit.lab"]))
    check(st == 200 and r == {"allow": True}, "permitted order: %s %s" % (st, r))
    mine = caad.wait_checks(lambda l: l.get("rpc") == "webhook/caa", 2)
    check(len(mine) == 2, "two audit lines for the permitted order: %s" % caad.checks())
    check(all(l.get("peer", "").startswith("ipv4:127.0.0.1:") for l in mine),
          "audit peer: %s" % mine)

    # one forbidden SAN forbids the whole order; the problem comes back
    st, r = step_post(port, ctx, "caa", secret,
                      body_for(["issue-permit.lab", "www.issue-deny.lab"]))
    check(st == 200 and r.get("allow") is False and r["error"]["code"] == "caa" and
          "www.issue-deny.lab" in r["error"]["message"],
          "forbidden SAN: %s %s" % (st, r))

    # names only in "sans" (type dns) count; ip/email/uri SANs are skipped
    st, r = step_post(port, ctx, "caa", secret, body_for([], sans=[
        {"type": "ip", "value": "192.0.2.1"}, {"type": "email", "value": "a@b.example"},
        {"type": "dns", "value": "www.issue-deny.lab"}]))
    check(st == 200 and r.get("allow") is False, "dns entry of sans: %s %s" % (st, r))

    # step-ca lowercases the type, and guesses "auto" and "" (x509util SplitSANs):
    # a DNS name under either is a DNS name in the certificate
    for t in ("auto", "", "DNS"):
        st, r = step_post(port, ctx, "caa", secret, body_for([], sans=[
            {"type": t, "value": "www.issue-deny.lab"}]))
        check(st == 200 and r.get("allow") is False and r["error"]["code"] == "caa",
              "sans type %r with a DNS name: %s %s" % (t, st, r))
    st, r = step_post(port, ctx, "caa", secret, body_for([], sans=[
        {"type": "auto", "value": "192.0.2.1"}, {"type": "", "value": "a@b.example"},
        {"type": "auto", "value": "spiffe://ca.example/x"}, {"type": "auto", "value": "2001:db8::1"}]))
    check(st == 200 and r == {"allow": True}, "auto SANs that are not DNS names: %s %s" % (st, r))

    # a template's own subjectAltName extension (2.5.29.17): step-ca puts it in the
    # certificate instead of dnsNames and sans (x509util Certificate.GetCertificate)
    def der(tag, b):
        return bytes([tag, len(b)]) + b
    for names, want in (([der(0x82, b"www.issue-deny.lab")], False),
                        ([der(0x87, bytes([192, 0, 2, 1]))], True),
                        ([der(0x87, bytes([192, 0, 2, 1])), der(0x82, b"issue-permit.lab"),
                          der(0x82, b"www.issue-deny.lab")], False)):
        raw = json.loads(body_for([], sans=[]))
        raw["x509Certificate"]["extensions"] = [{"id": "2.5.29.17", "critical": False,
                                                 "value": base64.b64encode(
                                                     der(0x30, b"".join(names))).decode()}]
        st, r = step_post(port, ctx, "caa", secret, json.dumps(raw).encode())
        check(st == 200 and r.get("allow") is want, "SAN extension %r: %s %s" % (names, st, r))
    raw["x509Certificate"]["extensions"][0]["value"] = base64.b64encode(b"\x30\x05\x82").decode()
    st, r = step_post(port, ctx, "caa", secret, json.dumps(raw).encode())
    check(st == 200 and r.get("allow") is False and r["error"]["code"] == "badRequest",
          "malformed SAN extension: %s %s" % (st, r))

    # the webhook's account: accounturi names account 1, not 2
    st, r = step_post(port, ctx, "caa", secret, body_for(["acct.lab"]))
    check(st == 200 and r == {"allow": True}, "account 1 permitted: %s %s" % (st, r))
    st, r = step_post(port, ctx, "acct2", secret, body_for(["acct.lab"]))
    check(st == 200 and r.get("allow") is False and r["error"]["code"] == "caa",
          "account 2 forbidden: %s %s" % (st, r))

    # no DNS SAN: nothing for CAA to forbid
    st, r = step_post(port, ctx, "caa", secret,
                      body_for([], sans=[{"type": "ip", "value": "192.0.2.1"}]))
    check(st == 200 and r == {"allow": True}, "no DNS SAN: %s %s" % (st, r))

    # a time zone offset as Go writes local time
    tz = datetime.timezone(datetime.timedelta(hours=2))
    st, r = step_post(port, ctx, "caa", secret,
                      body_for(["issue-permit.lab"], when=datetime.datetime.now(tz)))
    check(st == 200 and r == {"allow": True}, "offset timestamp: %s %s" % (st, r))

    # an invalid name: refused, not allowed
    st, r = step_post(port, ctx, "caa", secret, body_for(["bad..name.lab"]))
    check(st == 200 and r.get("allow") is False, "invalid name: %s %s" % (st, r))

    # an SSH or other request without x509Certificate: refused
    st, r = step_post(port, ctx, "caa", secret, body_for([], cert=False))
    check(st == 200 and r.get("allow") is False, "no x509Certificate: %s %s" % (st, r))

    # ---- refusals before any DNS ----
    # the lines of one pipe arrive in order: what comes between two sentinel
    # checks' lines was written between them
    sentinel(caad, port, ctx, secret, "sentinel1.issue-permit.lab")
    n_checks = len(caad.checks())
    raw = body_for(["issue-permit.lab"])
    st, r = post(port, ctx, "/webhooks/caa", raw, {})
    check(st == 401 and r.get("allow") is False, "unsigned: %s %s" % (st, r))
    st, r = post(port, ctx, "/webhooks/caa", raw, {"X-Smallstep-Signature": "00" * 32})
    check(st == 403 and r.get("allow") is False, "bad signature: %s %s" % (st, r))
    st, r = post(port, ctx, "/webhooks/caa", raw, {"X-Smallstep-Signature": "zz"})
    check(st == 403, "malformed signature: %s %s" % (st, r))
    wrong = base64.b64encode(b"another secret of thirty-two oct").decode()
    st, r = step_post(port, ctx, "caa", wrong, raw)
    check(st == 403 and r.get("allow") is False, "wrong secret: %s %s" % (st, r))
    # signed, then changed: the signature covers the raw body
    tampered = raw.replace(b"issue-permit.lab", b"issue-permit.lab", 1) + b" "
    st, r = post(port, ctx, "/webhooks/caa", tampered,
                 {"X-Smallstep-Signature": sign(secret, raw)})
    check(st == 403, "tampered body: %s %s" % (st, r))
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6)
    st, r = step_post(port, ctx, "caa", secret, body_for(["issue-permit.lab"], when=old))
    check(st == 403 and r.get("allow") is False, "stale: %s %s" % (st, r))
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=6)
    st, r = step_post(port, ctx, "caa", secret, body_for(["issue-permit.lab"], when=future))
    check(st == 403, "from the future: %s %s" % (st, r))
    st, r = step_post(port, ctx, "caa", secret, b"{not json")
    check(st == 400 and r.get("allow") is False, "garbage JSON: %s %s" % (st, r))
    st, r = step_post(port, ctx, "caa", secret, b'{"x509Certificate":{"dnsNames":["a.lab"]}}')
    check(st == 400, "no timestamp: %s %s" % (st, r))
    # oversized: refused on its Content-Length, before the body is read
    big = b"x" * (256 * 1024 + 1)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    c.putrequest("POST", "/webhooks/caa")
    c.putheader("Content-Length", str(len(big)))
    c.putheader("X-Smallstep-Signature", sign(secret, big))
    c.endheaders()
    check(c.getresponse().status == 413, "oversized body refused")
    c.close()
    st, r = step_post(port, ctx, "nosuch", secret, raw)
    check(st == 404, "unknown webhook: %s %s" % (st, r))
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    c.request("GET", "/webhooks/caa")
    check(c.getresponse().status == 405, "GET is not served")
    c.close()
    sentinel(caad, port, ctx, secret, "sentinel2.issue-permit.lab")
    check(len(caad.checks()) == n_checks + 1, "refused requests write no check lines")

    # plain HTTP to the TLS listener gets no answer that could be mistaken for one
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("POST", "/webhooks/caa", body=raw,
                  headers={"X-Smallstep-Signature": sign(secret, raw)})
        st = c.getresponse().status
        check(st != 200, "plain HTTP on the TLS listener answered 200")
    except (http.client.HTTPException, OSError):
        pass
    c.close()

    # and still serving after all that
    st, r = step_post(port, ctx, "caa", secret, body_for(["issue-permit.lab"]))
    check(st == 200 and r == {"allow": True}, "serving after the refusals: %s %s" % (st, r))

    # the JSON API shares the listener and its TLS (docs/api.md#http-json)
    st, r = post(port, ctx, "/v1/check", json.dumps(
        {"identifier": {"value": "www.issue-deny.lab"}}).encode(), {})
    check(st == 200 and r.get("verdict") == "FORBIDDEN", "/v1/check over HTTPS: %s %s" % (st, r))


def mtls_cases(caad, tmp, secret):
    port = caad.port
    raw = body_for(["issue-permit.lab"])
    ctx = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
    refused = False
    try:
        st, r = step_post(port, ctx, "caa", secret, raw)
        refused = st == 403
    except (ssl.SSLError, OSError, http.client.HTTPException):
        refused = True
    check(refused, "mTLS: a client without a certificate is refused")
    # a certificate client_ca signed, but for servers only (serverAuth): refused
    sctx = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
    sctx.load_cert_chain(os.path.join(tmp, "server.pem"), os.path.join(tmp, "server.key"))
    try:
        st, r = step_post(port, sctx, "caa", secret, raw)
        refused = st == 403
    except (ssl.SSLError, OSError, http.client.HTTPException):
        refused = True
    check(refused, "mTLS: a certificate without clientAuth is refused")
    ctx.load_cert_chain(os.path.join(tmp, "client.pem"), os.path.join(tmp, "client.key"))
    st, r = step_post(port, ctx, "caa", secret, raw)
    check(st == 200 and r == {"allow": True}, "mTLS with a client certificate: %s %s" % (st, r))
    mine = caad.wait_checks(lambda l: l.get("rpc") == "webhook/caa", 1)
    check(len(mine) == 1 and "CN=step-ca" in (mine[0].get("client") or ""),
          "mTLS audit line names the client: %s" % mine)
    st, r = post(port, ctx, "/v1/check-order", json.dumps(
        {"authorizations": [{"identifier": {"value": "issue-permit.lab"}}]}).encode(), {})
    check(st == 200 and r.get("results", [{}])[0].get("verdict") == "PERMITTED",
          "/v1/check-order over mTLS: %s %s" % (st, r))
    mine = caad.wait_checks(lambda l: l.get("rpc") == "HTTP.CheckOrder", 1)
    check(len(mine) == 1 and "CN=step-ca" in (mine[0].get("client") or ""),
          "mTLS audit line of the JSON API names the client: %s" % mine)


def schema_check(schema_path, lines):
    """Every line caad wrote is valid against docs/audit.schema.json."""
    import jsonschema
    v = jsonschema.Draft202012Validator(json.load(open(schema_path)))
    for line in lines:
        errs = [e.message for e in v.iter_errors(line)]
        check(not errs, "log line not valid against the schema: %s: %s" % (errs, line))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--caad", required=True)
    ap.add_argument("--lab", required=True)
    ap.add_argument("--tmp")
    ap.add_argument("--schema", required=True)
    a = ap.parse_args()
    tmp = a.tmp or tempfile.mkdtemp(prefix="caad-webhook-")
    os.makedirs(tmp, exist_ok=True)
    make_certs(tmp)
    # step-ca shows a base64 secret when the webhook is added
    secret = base64.b64encode(os.urandom(64)).decode()
    secret_file = os.path.join(tmp, "webhook.secret")
    with open(secret_file, "w") as f:
        f.write(secret + "\n")

    for client_ca, cases in ((False, tls_cases), (True, mtls_cases)):
        caad = Caad(a.caad, config(a.lab, tmp, secret_file, client_ca))
        try:
            cases(caad, tmp, secret)
        finally:
            rc = caad.stop()
            check(rc == 0, "caad exit status %s" % rc)
            schema_check(a.schema, caad.lines)
            if FAILURES:
                for l in caad.lines:
                    print(json.dumps(l), file=sys.stderr)
    if not a.tmp and not FAILURES:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
