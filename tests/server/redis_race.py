#!/usr/bin/python3
"""redis_race.py — two caads racing on one Redis (docs/reuse-window.md, "The
Redis backend"; issue 11 §1). Both replicas share one reuse cache; the CAA
RRset of the names under the TLD "flip." changes under them, because a small
authoritative server in this process serves flip. (TTL 0) and the test says
what it answers: a permission ("ca.example"), a refusal (another CA) or
SERVFAIL. Both caads resolve flip. through it (a stub-zone and
domain-insecure added to the lab's unbound.conf: a TLD, because caad asks
every label at once and the lab root's signed NXDOMAIN for a TLD would deny
all below it; not "test.", which unbound serves locally), so they share one
config generation and so one key.

Scripted steps, then a race:
 1. a permission earned on A is reused on B (same checked_at);
 2. a FORBIDDEN checked on B (validated_at far outside the window makes it
    go to DNS) blocks A's older permission: A never answers it again;
 3. a SERVFAIL on B is LOOKUP_FAILED (never a permission) and blocks it too;
 4. race: threads on both caads at once, one key, the DNS answer cycling
    permit/permit/forbid/SERVFAIL per query, a quarter of the calls forced to
    DNS. Asserted on every answer, during the run:
    - a reused PERMITTED is newer than every refusal whose answer had been
      received before the call was sent, from either caad (a refusal is
      stored before its answer leaves, and the newest checked_at wins);
    - a PERMITTED is AUTHORIZED by the "ca.example" record, never from a
      failed lookup (that would show as NO_CAA or without the record);
    - a reused PERMITTED carries the checked_at of a permission one of the
      caads answered from DNS;
    - every call is answered (status OK).
    Afterwards: both caads healthy, no cache errors (timeout 5 s: a
    "slow Redis" miss would let a replica skip a store, docs/reuse-window.md),
    and both replicas did reuse each other's permissions and store refusals.
No timing is asserted; waits are hang bounds only.

usage: redis_race.py --caad CAAD --lab LABDIR [--source DIR]
Exit 77 (skip) without redis-server or Debian's python3-grpcio/python3-dnslib.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy", "lab"))
try:
    import dnslib
    import grpc
    from conformance import V1_REASON, V1_VERDICT, _first, pb_decode, pb_int, pb_str
except ImportError as e:
    print("SKIP: %s" % e)
    sys.exit(77)

ZONE = "flip."
CA = "ca.example"
ACCOUNT = "https://ca.example/acme/acct/1"
THREADS = 8         # 4 per caad
CALLS = 150         # per thread
CALL_TIMEOUT = 60   # s, a hang bound

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


# ------------------------------------------------------------ the flipping DNS

class FlipDNS:
    """flip on UDP 127.0.0.1:<port>: CAA for every name under it as
    `mode` says, TTL 0 so resolvers keep asking. mode "race" cycles the answer
    per query."""
    CYCLE = ("permit", "permit", "forbid", "servfail")

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.mode = "permit"
        self.n = 0
        self.answered = {"permit": 0, "forbid": 0, "servfail": 0}
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            try:
                out = self.answer(dnslib.DNSRecord.parse(data))
            except Exception:  # not a query we can parse: no answer
                continue
            self.sock.sendto(out, peer)

    def answer(self, q):
        r = q.reply()  # AA set
        qn, qt = q.q.qname, q.q.qtype
        soa = dnslib.RR(ZONE, dnslib.QTYPE.SOA, ttl=0, rdata=dnslib.SOA(
            "ns." + ZONE, "hostmaster." + ZONE, (1, 3600, 600, 86400, 0)))
        if not qn.matchSuffix(ZONE):
            r.header.rcode = dnslib.RCODE.REFUSED
            r.header.aa = 0
        elif qt == dnslib.QTYPE.CAA:
            mode = self.mode
            if mode == "race":
                mode = self.CYCLE[self.n % len(self.CYCLE)]
                self.n += 1
            self.answered[mode] += 1
            if mode == "servfail":
                r.header.rcode = dnslib.RCODE.SERVFAIL
                r.header.aa = 0
            else:
                ca = CA if mode == "permit" else "other.example"
                r.add_answer(dnslib.RR(qn, dnslib.QTYPE.CAA, ttl=0,
                                       rdata=dnslib.CAA(0, "issue", ca)))
        elif qt == dnslib.QTYPE.NS and qn == dnslib.DNSLabel(ZONE):
            r.add_answer(dnslib.RR(ZONE, dnslib.QTYPE.NS, ttl=0, rdata=dnslib.NS("ns." + ZONE)))
        elif qt == dnslib.QTYPE.A and qn == dnslib.DNSLabel("ns." + ZONE):
            r.add_answer(dnslib.RR(qn, dnslib.QTYPE.A, ttl=0, rdata=dnslib.A("127.0.0.1")))
        elif qt == dnslib.QTYPE.SOA and qn == dnslib.DNSLabel(ZONE):
            r.add_answer(soa)
        else:
            r.add_auth(soa)  # NODATA (every name under flip exists)
        return r.pack()


# ------------------------------------------------------------ processes

def start_redis(work):
    sock = os.path.join(work, "redis.sock")
    p = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                          "--save", "", "--appendonly", "no", "--dir", work,
                          "--maxmemory-policy", "noeviction", "--loglevel", "warning",
                          "--logfile", os.path.join(work, "redis.log")])
    deadline = time.monotonic() + 30  # hang bound
    while time.monotonic() < deadline and not os.path.exists(sock):
        if p.poll() is not None:
            sys.exit("redis-server exited: %d" % p.returncode)
        time.sleep(0.05)
    return p, sock


def caad_config(lab, work, dns_port, redis_sock):
    """The lab config, resolving flip through FlipDNS, on Redis."""
    ub = os.path.join(work, "unbound.conf")
    with open(os.path.join(lab, "unbound.conf")) as f, open(ub, "w") as out:
        out.write(f.read())
        out.write('server:\n    domain-insecure: "%s"\n'
                  'stub-zone:\n    name: "%s"\n    stub-addr: 127.0.0.1@%d\n'
                  % (ZONE, ZONE, dns_port))
    key = os.path.join(work, "cache.key")
    with open(key, "w") as f:
        f.write("a secret the replicas share, 32+ octets\n")
    cfg = json.load(open(os.path.join(lab, "caa.json")))
    cfg["dns"]["unbound_conf"] = ub
    cfg["listen"] = "127.0.0.1:0"
    cfg["metrics_listen"] = "127.0.0.1:0"
    cfg["cache"] = {"backend": "redis",
                    "redis": {"address": "unix:" + redis_sock, "key_file": key,
                              "timeout": "5s"}}
    path = os.path.join(work, "caad.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


class Caad:
    def __init__(self, name, caad, cfg, work):
        self.name = name
        self.log = open(os.path.join(work, "caad-%s.log" % name), "w+")
        self.proc = subprocess.Popen([caad, "--config", cfg], stderr=self.log)
        deadline = time.monotonic() + 60  # hang bound
        self.port = None
        while self.port is None and time.monotonic() < deadline:
            self.log.seek(0)
            for line in self.log:
                j = json.loads(line)
                if j.get("msg") == "listening":
                    self.port, self.metrics = j["port"], j["metrics_port"]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            self.log.seek(0)
            sys.exit("caad %s did not start:\n%s" % (name, self.log.read()))
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.port)
        self.call = self.channel.unary_unary("/caa.v1.CAA/Check")
        self.health = self.channel.unary_unary("/grpc.health.v1.Health/Check")

    def check(self, name, force_dns=False):
        """The answer as a dict, or None when the call failed."""
        req = pb_str(1, pb_str(1, "dns") + pb_str(2, name)) + pb_str(2, ACCOUNT)
        if force_dns:  # validated in 1970: outside the window, so DNS decides
            req += pb_str(4, pb_int(1, 1))
        try:
            m = pb_decode(self.call(req, timeout=CALL_TIMEOUT))
        except grpc.RpcError as e:
            return {"caad": self.name, "name": name,
                    "error": "%s %s" % (e.code().name, e.details())}
        ts = pb_decode(_first(m, 8))
        rec = [pb_decode(r) for r in m.get(5, [])]
        decided = [r for r in rec if _first(r, 7, 0)]
        r = _first(m, 3, 0)
        return {"caad": self.name, "name": name,
                "verdict": V1_VERDICT.get(_first(m, 2, 0), "UNSPECIFIED"),
                "reason": V1_REASON[r] if r < len(V1_REASON) else str(r),
                "reused": bool(_first(m, 9, 0)),
                # ms, as the cache keeps it
                "at": _first(ts, 1, 0) * 1000 + _first(ts, 2, 0) // 1000000 if ts else None,
                "value": _first(decided[0], 3).decode() if decided else None,
                "queries": _first(m, 12, 0)}

    def serving(self):
        try:
            return _first(pb_decode(self.health(b"", timeout=CALL_TIMEOUT)), 1, 0) == 1
        except grpc.RpcError:
            return False

    def metric(self, series):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics,
                                    timeout=CALL_TIMEOUT) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(series + " "):
                    return float(line.split()[1])
        return None

    def stop(self):
        self.channel.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        check(rc == 0, "caad %s exit status %d after SIGTERM" % (self.name, rc))


# ------------------------------------------------------------ the invariant

class Ledger:
    """Every answer, and the newest refusal received so far."""

    def __init__(self):
        self.lock = threading.Lock()
        self.floor = {}  # name -> (newest checked_at (ms) of a refusal received, its caad)
        self.answers = []

    def sent(self, name):
        with self.lock:
            return self.floor.get(name, (None, None))

    def received(self, a, floor, floor_by):
        """Judge one answer against the floor seen when its call was sent."""
        with self.lock:
            self.answers.append(a)
            if "error" in a:
                check(False, "a call failed: %s" % a["error"])
                return
            ok = permission_well_founded(a)
            if a["verdict"] == "PERMITTED" and a["reused"] and floor is not None:
                ok = check(a["at"] is not None and a["at"] > floor,
                           "caad %s reused a permission checked at %s, not newer than the "
                           "refusal checked at %d on %s, answered before the call" %
                           (a["caad"], a["at"], floor, floor_by)) and ok
            if a["verdict"] != "PERMITTED" and not a["reused"] and a["at"] is not None:
                if a["at"] > self.floor.get(a["name"], (-1, None))[0]:
                    self.floor[a["name"]] = (a["at"], a["caad"])
            return ok


def permission_well_founded(a):
    """A PERMITTED says it was earned: AUTHORIZED by our record. A failed
    lookup turned into a permission would be NO_CAA or lack the record."""
    if a["verdict"] != "PERMITTED":
        check(not a["reused"], "caad %s reused a refusal: %r" % (a["caad"], a))
        return True
    return check(a["reason"] == "AUTHORIZED" and a["value"] == CA and a["at"] is not None,
                 "caad %s: a permission not earned from the permitting record: %r" %
                 (a["caad"], a))


# ------------------------------------------------------------ the cases

def scripted(dns, a, b, ledger):
    def ask(caad, name, force=False):
        floor, by = ledger.sent(name)
        ans = caad.check(name, force)
        ledger.received(ans, floor, by)
        return ans

    # 1. a permission earned on A is reused on B
    dns.mode = "permit"
    p = ask(a, "one.flip")
    check(p.get("verdict") == "PERMITTED" and not p.get("reused"), "A earns: %r" % p)
    r = ask(b, "one.flip")
    check(r.get("verdict") == "PERMITTED" and r.get("reused") and r.get("at") == p.get("at"),
          "B reuses A's permission: %r, A's %r" % (r, p))
    # 2. a forbid on B blocks A's older permission
    dns.mode = "forbid"
    f = ask(b, "one.flip", force=True)
    check(f.get("verdict") == "FORBIDDEN" and not f.get("reused"), "B forbids: %r" % f)
    r = ask(a, "one.flip")
    check(not (r.get("reused") and r.get("at") == p.get("at")),
          "A reused its permission after B's newer FORBIDDEN: %r" % r)
    print("after B's FORBIDDEN, A answered %s (reused %s)" % (r.get("verdict"), r.get("reused")))
    # 3. a failed lookup is no permission, and blocks the older one
    dns.mode = "permit"
    p = ask(a, "two.flip")
    r = ask(b, "two.flip")
    check(r.get("reused") and r.get("at") == p.get("at"), "B reuses A's: %r" % r)
    dns.mode = "servfail"
    f = ask(b, "two.flip", force=True)
    check(f.get("verdict") == "LOOKUP_FAILED" and not f.get("reused"),
          "SERVFAIL on B is LOOKUP_FAILED: %r" % f)
    r = ask(a, "two.flip")
    check(not (r.get("reused") and r.get("at") == p.get("at")),
          "A reused its permission after B's newer LOOKUP_FAILED: %r" % r)


def race(dns, a, b, ledger):
    dns.mode = "race"
    name = "race.flip"

    def run(tid):
        caad = (a, b)[tid % 2]
        for j in range(CALLS):
            floor, by = ledger.sent(name)
            ans = caad.check(name, force_dns=(j + tid) % 4 == 0)
            ledger.received(ans, floor, by)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ans = [x for x in ledger.answers if "error" not in x]
    earned = {}
    for x in ans:
        if x["verdict"] == "PERMITTED" and not x["reused"]:
            earned.setdefault(x["at"], set()).add(x["caad"])
    cross = 0
    for x in ans:
        if x["verdict"] == "PERMITTED" and x["reused"]:
            check(x["at"] in earned, "caad %s reused a permission checked at %d that no caad "
                  "answered from DNS" % (x["caad"], x["at"]))
            cross += x["caad"] not in earned.get(x["at"], {x["caad"]})
    refusals = {c: sum(1 for x in ans if x["caad"] == c and x["verdict"] != "PERMITTED")
                for c in ("A", "B")}
    reused = sum(1 for x in ans if x["reused"])
    print("race: %d answers, %d reused (%d of a permission the other caad earned), "
          "refusals from DNS A %d B %d; DNS answered %r" %
          (len(ans), reused, cross, refusals["A"], refusals["B"], dns.answered))
    check(len(ans) == len(ledger.answers), "calls failed")
    check(cross > 0, "no permission earned on one caad was reused on the other")
    check(refusals["A"] > 0 and refusals["B"] > 0, "a caad stored no refusal: %r" % refusals)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--caad", required=True)
    ap.add_argument("--lab", required=True)
    a = ap.parse_args()
    if shutil.which("redis-server") is None:
        print("SKIP: no redis-server")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="caad-redis-race-")
    dns = FlipDNS()
    redis, sock = start_redis(work)
    cfg = caad_config(a.lab, work, dns.port, sock)
    caads = []
    try:
        caads = [Caad("A", a.caad, cfg, work), Caad("B", a.caad, cfg, work)]
        ledger = Ledger()
        scripted(dns, caads[0], caads[1], ledger)
        race(dns, caads[0], caads[1], ledger)
        for c in caads:
            check(c.serving(), "caad %s not serving after the race" % c.name)
            err = c.metric('caad_cache_errors_total{backend="redis"}')
            check(err == 0, "caad %s counted %s cache errors" % (c.name, err))
    finally:
        for c in caads:
            c.stop()
        dns.stop = True
        redis.send_signal(signal.SIGTERM)
        redis.wait(timeout=60)
    if FAILURES:
        for c in caads:
            c.log.seek(0)
            sys.stderr.write("--- caad %s log (tail)\n" % c.name)
            sys.stderr.write("".join(c.log.readlines()[-20:]))
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("redis_race: all cases passed")


if __name__ == "__main__":
    main()
