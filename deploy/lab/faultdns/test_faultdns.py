#!/usr/bin/python3
"""test_faultdns.py — caa-faultdns behaviour, one assertion per rule action, without
root: every server listens on 127.0.0.1 at a free high port.

  test_faultdns.py PATH/TO/caa-faultdns

Standard library only (Debian's /usr/bin/python3). Exit 0 when every check passes.
"""
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

FAILED = []


def check(cond, what):
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        FAILED.append(what)


_given = set()


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 and not handed out before
    (nothing listens on a port until the server starts: without the set two
    servers could be given the same one)."""
    while True:
        port = random.randrange(20000, 60000)
        if port in _given:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
                _given.add(port)
                return port
        except OSError:
            continue


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=300):
    return {"owner": owner, "type": rtype, "ttl": ttl, "rdata": rdata.hex()}


def soa(zone):
    return rr(zone, 6, wire_name("ns." + zone) + wire_name("hostmaster." + zone) +
              struct.pack("!5I", 1, 3600, 900, 604800, 60))


def caa(flags, tag, value):
    return bytes([flags, len(tag)]) + tag.encode() + value.encode()


# Waits only catch hangs: an answer that does not come within HANG seconds never will.
# Checks assert what is answered and in which order, never how fast (a loaded machine,
# ASan, ctest -j only make it slower); "no answer" checks give their own short timeout.
HANG = 20.0


def query(port, name, qtype, qclass=1, tcp=False, edns=True, timeout=HANG):
    """Returns (rcode, flags, sections, raw) or None when nothing came back."""
    qid = random.randrange(65536)
    pkt = struct.pack("!6H", qid, 0, 1, 0, 0, 1 if edns else 0) + wire_name(name) + \
        struct.pack("!HH", qtype, qclass)
    if edns:
        pkt += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    try:
        if tcp:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                s.sendall(struct.pack("!H", len(pkt)) + pkt)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    chunk = s.recv(65536)
                    if not chunk:
                        return "closed"
                    buf += chunk
                resp = buf[2:]
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.sendto(pkt, ("127.0.0.1", port))
                resp = s.recv(65536)
    except ConnectionResetError:
        return "reset"
    except (socket.timeout, TimeoutError):
        return None
    _, flags, qd, an, ns, ar = struct.unpack("!6H", resp[:12])
    return flags & 0xF, flags, (an, ns, ar), resp


AA, TC, RA = 0x0400, 0x0200, 0x0080


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="faultdns-test.")
    ports = {n: free_port() for n in ("plain", "servfail", "refused", "notimp", "formerr", "drop",
                                       "tc", "tcboth", "flap", "slow", "busy", "nosoa", "upward", "apex")}
    zone = "z.test."
    records = [soa(zone), rr(zone, 2, wire_name("ns." + zone)),
               rr("ns." + zone, 1, socket.inet_aton("127.0.0.1")),
               rr("www." + zone, 257, caa(0, "issue", "ca.example")),
               rr("a.b." + zone, 1, socket.inet_aton("192.0.2.1")),  # b.z.test is an ENT
               rr("*.wild." + zone, 257, caa(0, "issue", "other.example")),
               rr("alias." + zone, 5, wire_name("www." + zone)),
               rr("d." + zone, 39, wire_name("target.example.")),
               rr("sub." + zone, 2, wire_name("ns.sub." + zone)),
               rr("ns.sub." + zone, 1, socket.inet_aton("192.0.2.53"))]
    records += [rr("big." + zone, 257, caa(0, "iodef", "mailto:report-%02d@big.z.test" % i))
                for i in range(40)]
    zones = [{"origin": zone, "records": records}]

    def server(name, rules=None, **kw):
        s = {"name": name, "address": "127.0.0.1", "port": ports[name], "rules": rules or [],
             "zones": zones}
        s.update(kw)
        return s

    conf = {"log": os.path.join(tmp, "queries.log"), "pidfile": os.path.join(tmp, "pid"),
            "servers": [
                server("plain"),
                server("servfail", [{"action": "servfail"}]),
                server("refused", [{"action": "refused"}]),
                server("notimp", [{"action": "notimp"}]),
                server("formerr", [{"action": "formerr"}]),
                server("drop", [{"action": "drop"}]),
                server("tc", [{"proto": "udp", "action": "tc"}, {"proto": "tcp", "action": "reset"}]),
                server("tcboth", [{"action": "tc"}]),
                server("flap", [{"qtype": 257, "action": "flap"}]),
                server("slow", delay_ms=200),
                # the delay keeps two queries in progress while the test sends three
                # more: longer than any stall of a loaded machine between sends
                server("busy", delay_ms=3000, max_inflight=2),
                server("nosoa", [{"action": "answer", "nodata_soa": False}]),
                server("upward", [{"action": "upward"}]),
                server("apex", [{"qname": zone, "qtype": 257, "action": "drop"}]),
            ]}
    path = os.path.join(tmp, "faultdns.json")
    with open(path, "w") as f:
        json.dump(conf, f)

    check(subprocess.run([binary, "-c", path, "--check"], stdout=subprocess.DEVNULL).returncode == 0,
          "--check accepts the configuration")
    bad = dict(conf, servers=[dict(conf["servers"][0], rules=[{"action": "explode"}])])
    with open(os.path.join(tmp, "bad.json"), "w") as f:
        json.dump(bad, f)
    r = subprocess.run([binary, "-c", os.path.join(tmp, "bad.json"), "--check"],
                       stderr=subprocess.PIPE, text=True)
    check(r.returncode == 2 and "explode" in r.stderr, "--check names a bad action and exits 2")

    proc = subprocess.Popen([binary, "-c", path], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + HANG
        while not os.path.exists(conf["pidfile"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(os.path.exists(conf["pidfile"]), "pidfile written after binding")
        P = ports

        r = query(P["plain"], "www.z.test", 257)
        check(r and r[0] == 0 and r[1] & AA and r[2][0] == 1, "answer: CAA with AA")
        r = query(P["plain"], "nope.z.test", 257)
        check(r and r[0] == 3 and r[2][1] == 1, "answer: NXDOMAIN with the SOA")
        r = query(P["plain"], "www.z.test", 1)
        check(r and r[0] == 0 and r[2][0] == 0 and r[2][1] == 1, "answer: NODATA with the SOA")
        r = query(P["plain"], "b.z.test", 257)
        check(r and r[0] == 0 and r[2][0] == 0, "answer: empty non-terminal is NODATA")
        r = query(P["plain"], "x.y.wild.z.test", 257)
        check(r and r[0] == 0 and r[2][0] == 1, "answer: wildcard synthesised two labels down")
        r = query(P["plain"], "alias.z.test", 257)
        qlen = len(wire_name("alias.z.test"))
        atype = struct.unpack("!H", r[3][12 + qlen + 4 + qlen:][:2])[0] if r else 0
        check(r and r[0] == 0 and r[2][0] == 1 and atype == 5, "answer: CNAME for another type")
        r = query(P["plain"], "www.d.z.test", 257)
        check(r and r[0] == 0 and r[2][0] == 2 and b"\x03www\x06target\x07example\x00" in r[3],
              "answer: DNAME plus the synthesised CNAME")
        r = query(P["plain"], "x.sub.z.test", 257)
        check(r and r[0] == 0 and not r[1] & AA and r[2] == (0, 1, 2), "answer: referral with glue, no AA")
        r = query(P["plain"], "sub.z.test", 43)
        check(r and r[0] == 0 and r[1] & AA and r[2][1] == 1, "answer: DS at the cut answered by the parent")
        r = query(P["plain"], "other.example", 1)
        check(r and r[0] == 5, "answer: a name outside every zone is REFUSED")
        r = query(P["plain"], "big.z.test", 257)
        check(r and r[1] & TC and r[2][0] == 0, "answer: > 1232 bytes is truncated over UDP")
        r = query(P["plain"], "big.z.test", 257, tcp=True)
        check(r and not r[1] & TC and r[2][0] == 40, "answer: the whole RRset over TCP")
        r = query(P["plain"], "health.caa-faultdns", 16, qclass=3)
        check(r and r[0] == 0 and b"ok plain" in r[3], "health probe")

        for name, rc in (("servfail", 2), ("refused", 5), ("notimp", 4), ("formerr", 1)):
            r = query(P[name], "www.z.test", 257)
            check(r and r[0] == rc and r[2][0] == 0, "%s: RCODE %d" % (name, rc))
        check(query(P["drop"], "www.z.test", 257, timeout=0.4) is None, "drop: no answer over UDP")
        check(query(P["drop"], "www.z.test", 257, tcp=True, timeout=0.4) is None,
              "drop: no answer over TCP")
        r = query(P["drop"], "health.caa-faultdns", 16, qclass=3)
        check(r and r[0] == 0, "drop: the health probe still answers")
        r = query(P["tc"], "www.z.test", 257)
        check(r and r[1] & TC and r[2][0] == 0, "tc: TC=1 over UDP")
        r = query(P["tc"], "www.z.test", 257, tcp=True)
        check(r in ("reset", "closed"), "tc: TCP connection reset")
        r = query(P["tcboth"], "www.z.test", 257, tcp=True)
        check(r and r[1] & TC and r[2][0] == 0, "tc without a reset rule: TC=1 over TCP too")

        # Malformed queries: FORMERR, the question echoed only when it reads.
        def raw(pkt):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.settimeout(1)
                u.sendto(pkt, ("127.0.0.1", P["plain"]))
                return u.recv(512)
        hdr = struct.pack("!6H", 7, 0, 1, 0, 0, 0)
        loop = raw(hdr + b"\xc0\x0c" + struct.pack("!HH", 257, 1))
        check(loop[3] & 0xF == 1 and loop[4:6] == b"\0\0", "a pointer loop in the question: FORMERR")
        opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
        two = raw(struct.pack("!6H", 8, 0, 1, 0, 0, 2) + wire_name("www.z.test") +
                  struct.pack("!HH", 257, 1) + opt + opt)
        check(two[3] & 0xF == 1 and two[4:6] == b"\0\1", "two OPT records: FORMERR")
        short = raw(struct.pack("!6H", 9, 0, 1, 1, 0, 0) + wire_name("www.z.test") +
                    struct.pack("!HH", 257, 1))
        check(short[3] & 0xF == 1, "an answer count beyond the query: FORMERR")
        seq = [query(P["flap"], "www.z.test", 257)[0] for _ in range(4)]
        check(seq == [2, 0, 2, 0], "flap: SERVFAIL, answer, SERVFAIL, answer (got %s)" % seq)
        r = query(P["flap"], "www.z.test", 1)
        check(r and r[0] == 0, "flap: other types are answered")
        # delay_ms 200: answered, never before its delay, and after a query to a server
        # without delay that was sent later
        t0 = time.monotonic()
        slow = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        q = wire_name("www.z.test") + struct.pack("!HH", 257, 1)
        slow.sendto(struct.pack("!6H", 7, 0, 1, 0, 0, 0) + q, ("127.0.0.1", P["slow"]))
        fast.sendto(struct.pack("!6H", 8, 0, 1, 0, 0, 0) + q, ("127.0.0.1", P["plain"]))
        order = []
        sel = {slow: "slow", fast: "plain"}
        while len(order) < 2 and time.monotonic() - t0 < HANG:
            ready, _, _ = select.select(list(sel), [], [], HANG)
            for s in ready:
                rc = struct.unpack("!H", s.recv(512)[2:4])[0] & 0xF
                order.append((sel.pop(s), rc, time.monotonic() - t0))
        slow.close()
        fast.close()
        check([o[:2] for o in order] == [("plain", 0), ("slow", 0)] and order[1][2] >= 0.19,
              "delay: answered after the undelayed server, not before 200 ms (%s)" %
              ", ".join("%s rcode %d at %.0f ms" % (n, rc, t * 1000) for n, rc, t in order))
        r = query(P["nosoa"], "www.z.test", 1)
        check(r and r[0] == 0 and r[2][:2] == (0, 0), "nodata_soa false: NODATA without SOA")
        r = query(P["nosoa"], "nope.z.test", 1)
        check(r and r[0] == 3 and r[2][1] == 1, "nodata_soa false: NXDOMAIN keeps its SOA")
        r = query(P["upward"], "www.z.test", 257)
        check(r and r[0] == 0 and not r[1] & AA and r[2] == (0, 1, 1), "upward: referral to the root")
        check(query(P["apex"], "z.test", 257, timeout=0.4) is None, "rule qname+qtype: apex CAA dropped")
        r = query(P["apex"], "www.z.test", 257)
        check(r and r[0] == 0 and r[2][0] == 1, "rule qname+qtype: other names answered")

        # busy: 2 in progress at most; the rest REFUSED at once.
        socks = []
        for i in range(5):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(HANG)
            s.sendto(struct.pack("!6H", i, 0, 1, 0, 0, 0) + wire_name("www.z.test") +
                     struct.pack("!HH", 257, 1), ("127.0.0.1", P["busy"]))
            socks.append(s)
        codes = sorted(struct.unpack("!H", s.recv(512)[2:4])[0] & 0xF for s in socks)
        for s in socks:
            s.close()
        check(codes == [0, 0, 5, 5, 5], "max_inflight 2: two answered, three REFUSED (%s)" % codes)

        with open(conf["log"]) as f:
            lines = f.read().splitlines()
        fields = lines[0].split()
        check(len(fields) >= 6 and fields[1] == "127.0.0.1" and fields[2] in ("udp", "tcp")
              and fields[3].endswith(".") and float(fields[0]) > 1e9,
              "query log: <time> <address> <proto> <qname> <qtype> <result> ...")
        check(sum(" busy=1 " in ln for ln in lines) == 3, "query log: busy refusals are marked")
        check(any(" DROP " in ln for ln in lines) and any(" RESET " in ln for ln in lines),
              "query log: DROP and RESET are logged")

        os.rename(conf["log"], conf["log"] + ".old")
        proc.send_signal(1)  # SIGHUP: reopen the log
        # the signal is handled at the server's next round: ask until a query is
        # logged in a new file
        deadline = time.monotonic() + HANG
        while not os.path.exists(conf["log"]) and time.monotonic() < deadline:
            query(P["plain"], "www.z.test", 257)
            time.sleep(0.05)
        check(os.path.exists(conf["log"]), "SIGHUP reopens the query log")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
    err = proc.stderr.read().decode(errors="replace")
    check(proc.returncode == 0, "SIGTERM: exit 0 (got %s)%s" % (proc.returncode, "\n" + err if proc.returncode else ""))
    check(not os.path.exists(conf["pidfile"]), "SIGTERM: pidfile removed")
    print("%d failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
