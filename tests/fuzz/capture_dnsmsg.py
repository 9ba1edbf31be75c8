#!/usr/bin/env python3
"""capture_dnsmsg.py LABDIR OUTDIR — the seed corpus of fuzz_dnsmsg: real
replies from a running DNS lab (deploy/lab, `caa-lab up LABDIR`), saved as raw
message bytes, one file per reply, named after what it shows.

Covers CAA answers, NODATA with SOA, NXDOMAIN, referrals with glue, CNAME and
DNAME chains, DNSSEC-signed replies (DO set), compressed names (every real
server compresses), truncated replies, error rcodes, and queries."""
import os
import random
import socket
import struct
import sys


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(name, qtype, rd, edns=1232, do=False):
    qid = random.randrange(65536)
    pkt = struct.pack("!6H", qid, 0x0100 if rd else 0, 1, 0, 0, 1 if edns else 0)
    pkt += wire_name(name) + struct.pack("!HH", qtype, 1)
    if edns:
        pkt += b"\0" + struct.pack("!HHIH", 41, edns, 0x8000 if do else 0, 0)
    return pkt


def ask(addr, pkt, tcp=False):
    if tcp:
        with socket.create_connection((addr, 53), timeout=3) as s:
            s.sendall(struct.pack("!H", len(pkt)) + pkt)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf[2:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(pkt, (addr, 53))
        return s.recv(65536)


CAA, A, NS, SOA = 257, 1, 2, 6

# (file, server, name, type, rd, edns, do, tcp)
CASES = [
    ("resolver-caa-signed", "resolver", "secure.lab", CAA, True, 1232, True, False),
    ("resolver-cname-caa", "resolver", "www.c1.alias.lab", CAA, True, 1232, True, False),
    ("resolver-cname-cname-caa", "resolver", "www.c6.alias.lab", CAA, True, 1232, True, False),
    ("resolver-cname-nxdomain", "resolver", "www.c4.alias.lab", CAA, True, 1232, True, False),
    ("resolver-dname-caa", "resolver", "www.d1.alias.lab", CAA, True, 1232, True, False),
    ("resolver-dname-nxdomain", "resolver", "www.d2.alias.lab", CAA, True, 1232, True, False),
    ("resolver-nxdomain-signed", "resolver", "nope.secure.lab", CAA, True, 1232, True, False),
    ("resolver-nodata-signed", "resolver", "secure.lab", A, True, 1232, True, False),
    ("resolver-nodata-insecure", "resolver", "insecure.lab", A, True, 1232, False, False),
    ("resolver-servfail", "resolver", "servfail.lab", CAA, True, 1232, False, False),
    ("resolver-big-tc", "resolver", "big.lab", CAA, True, 512, True, False),
    ("resolver-big-tcp", "resolver", "big.lab", CAA, True, 1232, True, True),
    ("resolver-ns", "resolver", "lab", NS, True, 1232, True, False),
    ("auth-caa-signed", "zones", "secure.lab", CAA, False, 1232, True, False),
    ("auth-nodata-soa-nsec", "zones", "secure.lab", A, False, 1232, True, False),
    ("auth-nxdomain-nsec", "zones", "nope.secure.lab", CAA, False, 1232, True, False),
    ("auth-cname", "zones", "www.c1.alias.lab", CAA, False, 1232, False, False),
    ("auth-dname", "zones", "www.d1.alias.lab", CAA, False, 1232, True, False),
    ("auth-big-tc-noedns", "zones", "big.lab", CAA, False, 0, False, False),
    ("auth-soa", "zones", "secure.lab", SOA, False, 1232, True, False),
    ("root-referral-ds-glue", "root", "www.secure.lab", CAA, False, 1232, True, False),
    ("tld-referral-glue", "tld", "a.servfail.lab", CAA, False, 1232, True, False),
    ("tld-referral-signed", "tld", "www.secure.lab", CAA, False, 1232, True, False),
    ("fault-plain-nodata-soa", "plain", "order.lab", CAA, False, 1232, False, False),
    ("fault-nosoa-nodata", "nosoa", "nosoa.lab", CAA, False, 1232, False, False),
    ("fault-tc-udp", "tc", "tc.lab", CAA, False, 1232, False, False),
    ("fault-tc-tcp", "tc_both", "tc-both.lab", CAA, False, 1232, False, True),
    ("fault-upward-referral", "lame_upward", "lame-upward.lab", CAA, False, 1232, False, False),
    ("fault-refused", "refused", "refused.lab", CAA, False, 1232, False, False),
    ("fault-formerr-noedns", "formerr", "formerr.lab", CAA, False, 0, False, False),
    ("fault-notimp", "notimp", "notimp.lab", CAA, False, 1232, False, False),
]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    env = {}
    with open(os.path.join(sys.argv[1], "lab.env")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                env[k] = v
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for fname, srv, name, qtype, rd, edns, do, tcp in CASES:
        addr = env["CAA_LAB_ADDR_" + srv.upper()]
        q = query(name, qtype, rd, edns, do)
        r = ask(addr, q, tcp)
        with open(os.path.join(out, fname), "wb") as f:
            f.write(r)
        flags = struct.unpack("!H", r[2:4])[0]
        print("%-28s %5d octets rcode %d tc %d counts %s" %
              (fname, len(r), flags & 0xF, flags >> 9 & 1, struct.unpack("!4H", r[4:12])))
    with open(os.path.join(out, "query-caa-edns-do"), "wb") as f:
        f.write(query("www.example.com", CAA, False, 1232, True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
