#!/usr/bin/env python3
"""Certificate rotation on the http listener (docs/config.md "Reloading"):
SIGHUP re-reads http.tls.cert and http.tls.key, as it does tls.* for gRPC.

t_httptls.py --caad BIN --lab DIR [--tmp DIR]

caad serves HTTPS with mTLS from certificate A. The files are replaced by
certificate B (issued by an intermediate CA: a chain of two) under the same
names, then the config is pointed at C under new names; each time after SIGHUP and the "reloaded" line, a new connection
sees the new certificate, a keep-alive connection opened before keeps
working, and requests made all along by a few clients never fail. A key that
does not parse, a key that is not the certificate's and a changed client CA
are refused whole ("reload rejected", caad_config_reloads_total{result=
"error"}): the certificate before still serves. Standard library only.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t_webhook import FAILURES, Caad, check, make_certs  # noqa: E402

CHECK = json.dumps({"identifier": {"value": "issue-permit.lab"}}).encode()


def leaf(tmp, name, cn, issuer="ca"):
    """Another server certificate for 127.0.0.1, from make_certs's CA or
    from issuer."""
    script = r"""
set -e
exec 2>>openssl.log
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1.key -out $1.csr \
  -subj "/CN=$2"
printf 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' >$1.ext
openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -out $1.pem -days 2 \
  -extfile $1.ext
"""
    subprocess.run(["sh", "-c", script, "leaf", name, cn, issuer], cwd=tmp, check=True)


def intermediate(tmp):
    """An intermediate CA under make_certs's CA (the client trusts the root only)."""
    script = r"""
set -e
exec 2>>openssl.log
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key -out int.csr \
  -subj /CN=webhook-test-intermediate
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\n' >int.ext
openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out int.pem -days 2 \
  -extfile int.ext
"""
    subprocess.run(["sh", "-c", script], cwd=tmp, check=True)


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def replace(tmp, src, dst):
    """dst's contents become src's, atomically (as a deploy tool renames)."""
    shutil.copyfile(os.path.join(tmp, src), os.path.join(tmp, dst + ".new"))
    os.replace(os.path.join(tmp, dst + ".new"), os.path.join(tmp, dst))


def client_ctx(tmp):
    ctx = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
    ctx.load_cert_chain(os.path.join(tmp, "client.pem"), os.path.join(tmp, "client.key"))
    return ctx


def served(port, ctx):
    """The DER of the certificate a new connection is given."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


def check_on(conn):
    """POST /v1/check on conn: True when answered PERMITTED."""
    conn.request("POST", "/v1/check", body=CHECK, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    return r.status == 200 and json.loads(body).get("verdict") == "PERMITTED"


class Load:
    """Clients calling all along, each call on a new connection (a new
    handshake): every failure counted."""

    def __init__(self, port, ctx, n=3):
        self.port, self.ctx = port, ctx
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = []
        self.threads = [threading.Thread(target=self.run) for _ in range(n)]
        for t in self.threads:
            t.start()

    def run(self):
        while not self.stop.is_set():
            c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                            timeout=60)
            try:
                good = check_on(c)
                err = None if good else "not PERMITTED"
            except (OSError, http.client.HTTPException, ValueError) as e:
                good, err = False, repr(e)
            finally:
                c.close()
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.failed.append(err)

    def calls(self):
        with self.lock:
            return self.ok + len(self.failed)

    def wait_calls(self, n):
        """Until n more calls are done (the hang bound is the test's timeout)."""
        target = self.calls() + n
        while self.calls() < target and not self.stop.wait(0.01):
            pass

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def reloads(mport, result):
    url = "http://127.0.0.1:%d/metrics" % mport
    with urllib.request.urlopen(url, timeout=60) as r:
        text = r.read().decode()
    key = 'caad_config_reloads_total{result="%s"} ' % result
    for line in text.splitlines():
        if line.startswith(key):
            return float(line[len(key):])
    return 0.0


def hup(caad, msg):
    """SIGHUP, and the line that says how it went ("reloaded" or "reload
    rejected"): the other one is a failure."""
    caad.p.send_signal(signal.SIGHUP)
    while True:
        line = caad.q.get(timeout=60)
        if line is None or line.get("msg") in ("reloaded", "reload rejected"):
            check(line is not None and line.get("msg") == msg,
                  "SIGHUP: wanted %s, got %s" % (msg, line))
            return line or {}


def write_config(path, lab, tmp, cert, key, client_ca="ca.pem"):
    with open(os.path.join(lab, "caa.json")) as f:
        cfg = json.load(f)
    cfg["listen"] = "127.0.0.1:0"
    cfg["metrics_listen"] = "127.0.0.1:0"
    cfg["http"] = {"listen": "127.0.0.1:0",
                   "tls": {"cert": os.path.join(tmp, cert), "key": os.path.join(tmp, key)}}
    if client_ca:
        cfg["http"]["tls"]["client_ca"] = os.path.join(tmp, client_ca)
    with open(path + ".new", "w") as f:
        json.dump(cfg, f)
    os.replace(path + ".new", path)


def rotation(caad, tmp, cfg_path, lab):
    port, mport = caad.port, caad.listening["metrics_port"]
    ctx = client_ctx(tmp)
    a, b, c = der(os.path.join(tmp, "a.pem")), der(os.path.join(tmp, "b.pem")), \
        der(os.path.join(tmp, "c.pem"))
    check(served(port, ctx) == a, "at start: certificate A")

    # a keep-alive connection up before the rotation keeps its certificate
    kept = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    check(check_on(kept), "a call on the kept connection")
    check(kept.sock.getpeercert(binary_form=True) == a, "the kept connection has A")

    load = Load(port, ctx)
    try:
        load.wait_calls(20)

        # same names, new contents: B
        replace(tmp, "b.chain", "server.pem")
        replace(tmp, "b.key", "server.key")
        hup(caad, "reloaded")
        check(served(port, ctx) == b, "same names, new contents: a new connection sees B")
        load.wait_calls(20)
        check(check_on(kept) and kept.sock.getpeercert(binary_form=True) == a,
              "the connection opened before the reload keeps A and keeps working")

        # new names: C
        write_config(cfg_path, lab, tmp, "c.pem", "c.key")
        hup(caad, "reloaded")
        check(served(port, ctx) == c, "new names: a new connection sees C")
        load.wait_calls(20)

        # refused whole: the certificate before serves on
        errors = reloads(mport, "error")
        with open(os.path.join(tmp, "c.key.bad"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        replace(tmp, "c.key.bad", "c.key")
        line = hup(caad, "reload rejected")
        check("http.tls.key" in line.get("error", ""), "a key that does not parse: %s" % line)
        check(served(port, ctx) == c, "after a broken key: C still served")

        replace(tmp, "a.key", "c.key")  # a key, but A's
        line = hup(caad, "reload rejected")
        check("is not the key of" in line.get("error", ""),
              "a key that is not the certificate's: %s" % line)
        check(served(port, ctx) == c, "after a mismatched key: C still served")
        replace(tmp, "c.key.orig", "c.key")

        with open(os.path.join(tmp, "c.long"), "w") as f:  # C and 16 more
            f.write(open(os.path.join(tmp, "c.pem")).read() +
                    16 * open(os.path.join(tmp, "int.pem")).read())
        write_config(cfg_path, lab, tmp, "c.long", "c.key")
        line = hup(caad, "reload rejected")
        check("http.tls.cert" in line.get("error", "") and
              "more than 16 certificates" in line.get("error", ""),
              "a chain of 17 certificates is refused, saying why: %s" % line)
        check(served(port, ctx) == c, "after a chain too long: C still served")
        write_config(cfg_path, lab, tmp, "c.pem", "c.key")

        replace(tmp, "other-ca.pem", "ca.pem")
        line = hup(caad, "reload rejected")
        check("http.tls.client_ca" in line.get("error", ""),
              "a changed client CA is refused: %s" % line)
        replace(tmp, "ca.pem.orig", "ca.pem")

        write_config(cfg_path, lab, tmp, "c.pem", "c.key", client_ca=None)
        line = hup(caad, "reload rejected")
        check("http.tls.client_ca" in line.get("error", ""), "mTLS off is refused: %s" % line)
        check(reloads(mport, "error") == errors + 5,
              "five rejected reloads counted: %s" % (reloads(mport, "error") - errors))

        # all fixed again: a reload goes through, C still
        write_config(cfg_path, lab, tmp, "c.pem", "c.key")
        hup(caad, "reloaded")
        check(served(port, ctx) == c, "after the refusals: C")
        load.wait_calls(20)
    finally:
        load.end()
    check(not load.failed, "%d of %d calls failed during the rotations: %s" %
          (len(load.failed), load.calls(), load.failed[:5]))
    # four waits of 20 calls each: at least 80 calls made on new connections
    check(load.ok >= 80, "calls made during the rotations: %d" % load.ok)
    check(check_on(kept), "the kept connection still works at the end")
    kept.close()

    # mTLS is still enforced with the rotated certificate
    bare = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
    refused = False
    try:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=bare, timeout=60)
        refused = not check_on(c)
        c.close()
    except (ssl.SSLError, OSError, http.client.HTTPException):
        refused = True
    check(refused, "after the rotations, a client without a certificate is refused")
    print("%d calls during the rotations, %d failed" % (load.ok, len(load.failed)))


def bad_ca(caad, lab, tmp):
    """A client_ca without a PEM certificate (here the server's key) trusts
    no CA: caad must refuse it at start, naming it, not serve mTLS that
    refuses every client."""
    path = os.path.join(tmp, "bad-ca.json")
    write_config(path, lab, tmp, "a.pem", "a.key", client_ca="a.key")
    p = subprocess.Popen([caad, "--config", path], stderr=subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        check(False, "client_ca without a certificate: caad started anyway")
        return
    check(p.returncode != 0 and b"http.tls.client_ca" in err,
          "client_ca without a certificate: exit %s, %r" % (p.returncode, err[-400:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--caad", required=True)
    ap.add_argument("--lab", required=True)
    ap.add_argument("--tmp")
    a = ap.parse_args()
    tmp = a.tmp or tempfile.mkdtemp(prefix="caad-httptls-")
    os.makedirs(tmp, exist_ok=True)
    make_certs(tmp)
    intermediate(tmp)
    leaf(tmp, "a", "caad-a")
    leaf(tmp, "b", "caad-b", issuer="int")  # B comes with its chain
    with open(os.path.join(tmp, "b.chain"), "w") as f:
        f.write(open(os.path.join(tmp, "b.pem")).read() +
                open(os.path.join(tmp, "int.pem")).read())
    leaf(tmp, "c", "caad-c")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other-ca.key", "-out",
                    "other-ca.pem", "-days", "2", "-subj", "/CN=another-ca"],
                   cwd=tmp, check=True, stderr=subprocess.DEVNULL)
    for src, dst in (("a.pem", "server.pem"), ("a.key", "server.key"), ("c.key", "c.key.orig"),
                     ("ca.pem", "ca.pem.orig")):
        shutil.copyfile(os.path.join(tmp, src), os.path.join(tmp, dst))
    cfg_path = os.path.join(tmp, "caad.json")
    write_config(cfg_path, a.lab, tmp, "server.pem", "server.key")

    bad_ca(a.caad, a.lab, tmp)
    caad = Caad(a.caad, cfg_path)
    try:
        rotation(caad, tmp, cfg_path, a.lab)
    finally:
        rc = caad.stop()
        check(rc == 0, "caad exit status %s" % rc)
        if FAILURES:
            for l in caad.lines:
                print(json.dumps(l), file=sys.stderr)
    if not a.tmp and not FAILURES:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
