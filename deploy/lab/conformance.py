#!/usr/bin/python3
"""caa-lab conformance — run the lab's scenario catalogue against any CAA checker
(docs/conformance.md).

A checker is one of: a va.CAA/DoCAA endpoint (Boulder's VA, caad), a caa.v1 endpoint
(caad), or a command template run once per identifier. Each scenario's identifier is
checked as the lab CA (scenarios.json "ca", or the scenario's "request") and the
answer is judged against the catalogue's expected verdict. Scenarios where the RFCs
leave room ("room" in the catalogue) are scored separately, with the reading the
checker's answer implies.

Python 3 standard library + python3-grpcio (Debian). The two gRPC messages are
encoded and decoded here (a few fields each), so no generated code is needed.
"""

import argparse
import concurrent.futures
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
CAA_LAB = os.path.join(HERE, "caa-lab")

VERDICTS = ("PERMITTED", "FORBIDDEN", "LOOKUP_FAILED")
# caa.v1 enum numbers (proto/caa/v1/caa.proto)
V1_VERDICT = {1: "PERMITTED", 2: "FORBIDDEN", 3: "LOOKUP_FAILED"}
V1_REASON = ["REASON_UNSPECIFIED", "NO_CAA", "NO_RESTRICTING_PROPERTY", "AUTHORIZED",
             "NOT_AUTHORIZED", "CRITICAL_TAG", "ACCOUNT_URI_MISMATCH",
             "VALIDATION_METHOD_MISMATCH", "MALFORMED_PROPERTY", "NOT_APPLICABLE",
             "DNS_SERVFAIL", "DNS_TIMEOUT", "DNS_NXDOMAIN_TLD", "DNS_REFUSED", "DNS_NETWORK",
             "DNSSEC_BOGUS", "DNS_NOTIMP", "DNS_FORMERR", "INTERNAL", "DNS_NODATA_WITHOUT_SOA",
             "NOT_CORROBORATED"]
# DoCAA: Boulder's ValidationResult problem type -> verdict (docs/conformance.md)
DOCAA_PROBLEM = {"caa": "FORBIDDEN", "dns": "LOOKUP_FAILED", "serverInternal": "LOOKUP_FAILED"}
# The scenario's group: its first tag in this order.
GROUP_ORDER = ["rfc8657", "critical", "wildcard", "alias", "dnssec", "tld", "mpic", "order",
               "size", "malformed", "idn", "fault", "rule"]


class Usage(Exception):
    pass


# ------------------------------------------------------------ protobuf, by hand

def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_str(field, s):
    b = s.encode() if isinstance(s, str) else s
    return _varint(field << 3 | 2) + _varint(len(b)) + b if b else b""


def pb_int(field, n):
    return _varint(field << 3) + _varint(n) if n else b""


def pb_decode(buf):
    """{field: [value, ...]}: varints as int, length-delimited as bytes."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(buf, i)
        elif wt == 2:
            n, i = _read_varint(buf, i)
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 1:
            v, i = bytes(buf[i:i + 8]), i + 8
        elif wt == 5:
            v, i = bytes(buf[i:i + 4]), i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(field, []).append(v)
    return out


def _read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _first(msg, field, default=b""):
    return msg.get(field, [default])[0]


# ------------------------------------------------------------ checkers

class Answer:
    """One checker answer: verdict PERMITTED | FORBIDDEN | LOOKUP_FAILED, or
    REFUSED when the checker only says "not permitted" (exit status)."""

    def __init__(self, verdict, reason="", detail="", error=False):
        self.verdict, self.reason, self.detail, self.error = verdict, reason, detail, error

    def as_json(self):
        return {"verdict": self.verdict, "reason": self.reason, "detail": self.detail,
                "error": self.error}


class GrpcChecker:
    def __init__(self, target, tls, timeout):
        import grpc  # python3-grpcio
        self.grpc = grpc
        self.timeout = timeout
        if tls.get("tls"):
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(tls.get("ca")), private_key=_read(tls.get("key")),
                certificate_chain=_read(tls.get("cert")))
            opts = [("grpc.ssl_target_name_override", tls["server_name"])] \
                if tls.get("server_name") else []
            self.channel = grpc.secure_channel(target, creds, options=opts)
        else:
            self.channel = grpc.insecure_channel(target)
        self.call = self.channel.unary_unary(self.METHOD, request_serializer=None,
                                             response_deserializer=None)

    def check(self, ident, itype, account_uri, account_id, method):
        try:
            raw = self.call(self.request(ident, itype, account_uri, account_id, method),
                            timeout=self.timeout)
        except self.grpc.RpcError as e:
            # A gRPC error is no permission: the CA cannot issue on it.
            return Answer("LOOKUP_FAILED", "GRPC_" + e.code().name, e.details() or "", True)
        return self.answer(pb_decode(raw))


class DoCAAChecker(GrpcChecker):
    METHOD = "/va.CAA/DoCAA"
    name = "DoCAA"

    def request(self, ident, itype, account_uri, account_id, method):
        # both layouts (docs/caad.md "DoCAA"): domain = 1 for older Boulder,
        # identifier = 5 for newer; accountURIID = 3, validationMethod = 2.
        return (pb_str(1, ident) + pb_str(2, method) + pb_int(3, account_id) +
                pb_str(5, pb_str(1, itype) + pb_str(2, ident)))

    def answer(self, resp):
        prob = resp.get(1)
        if not prob:
            return Answer("PERMITTED")
        p = pb_decode(prob[0])
        ptype = _first(p, 1).decode()
        return Answer(DOCAA_PROBLEM.get(ptype, "LOOKUP_FAILED"), "problem:" + ptype,
                      _first(p, 2).decode())


class V1Checker(GrpcChecker):
    METHOD = "/caa.v1.CAA/Check"
    name = "caa.v1"

    def request(self, ident, itype, account_uri, account_id, method):
        return pb_str(1, pb_str(1, itype) + pb_str(2, ident)) + pb_str(2, account_uri) + \
            pb_str(3, method)

    def answer(self, resp):
        verdict = V1_VERDICT.get(_first(resp, 2, 0), "LOOKUP_FAILED")
        r = _first(resp, 3, 0)
        reason = V1_REASON[r] if r < len(V1_REASON) else str(r)
        detail = ""
        if resp.get(7):
            detail = _first(pb_decode(resp[7][0]), 2).decode()
        return Answer(verdict, reason, detail)


class CmdChecker:
    name = "command"

    def __init__(self, template, as_json, timeout, extra):
        self.template, self.as_json, self.timeout, self.extra = template, as_json, timeout, extra

    def check(self, ident, itype, account_uri, account_id, method):
        vals = dict(self.extra, name=ident, type=itype, account_uri=account_uri,
                    account_id=str(account_id), method=method)
        try:
            cmd = self.template.format(**{k: shlex.quote(v) for k, v in vals.items()})
        except (KeyError, IndexError, ValueError) as e:
            raise Usage("--cmd: bad template %r: %s" % (self.template, e))
        try:
            p = subprocess.run(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return Answer("LOOKUP_FAILED", "TIMEOUT", "no answer in %g s" % self.timeout, True)
        err = p.stderr.strip().splitlines()
        if not self.as_json:
            if p.returncode == 0:
                return Answer("PERMITTED")
            return Answer("REFUSED", "exit %d" % p.returncode, err[-1] if err else "")
        for line in p.stdout.splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            v = str(j.get("verdict", "")).upper() if isinstance(j, dict) else ""
            v = {"PERMIT": "PERMITTED", "DENY": "FORBIDDEN", "FORBID": "FORBIDDEN",
                 "ERROR": "LOOKUP_FAILED"}.get(v, v)
            if v in VERDICTS:
                return Answer(v, str(j.get("reason", "")), str(j.get("detail", "")))
        return Answer("LOOKUP_FAILED", "NO_VERDICT",
                      "exit %d, no {\"verdict\": ...} line on stdout" % p.returncode, True)


def _read(path):
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------------------------------ the catalogue

def group_of(sc):
    tags = sc.get("tags", [])
    for g in GROUP_ORDER:
        if g in tags:
            return g
    return tags[0] if tags else "other"


def plan(cat, kind):
    """[(scenario, [(identifier, expect)], skip reason or None)] in catalogue order."""
    out = []
    for sc in cat["scenarios"]:
        req = sc.get("request", {})
        skip = None
        if "policy" in req:
            skip = "needs caad's policy profile %r (a checker setting, not a lab answer)" % \
                req["policy"]
        elif "no-validation" in sc.get("tags", []):
            skip = "needs a checker with DNSSEC validation off"
        elif sc.get("identifier_type", "dns") != "dns" and kind == "docaa":
            skip = "DoCAA checks DNS identifiers only"
        e = sc["expect"]
        if "order" in sc:
            by = e.get("by_identifier", {})
            items = [(i, by.get(i) or e.get("each")) for i in sc["order"]]
        else:
            items = [(sc["identifier"], e)]
        out.append((sc, items, skip))
    return out


def judge(expected, got):
    """(agree, kind): kind '' | 'unsafe' (permitted where the catalogue refuses) |
    'strict' (refused where it permits) | 'class' (FORBIDDEN vs LOOKUP_FAILED)."""
    if got.verdict == expected:
        return True, ""
    if got.verdict == "PERMITTED":
        return False, "unsafe"
    if expected == "PERMITTED":
        return False, "strict"
    if got.verdict == "REFUSED":  # exit status only: refused is all it can say
        return True, ""
    return False, "class"


def run(args, checker, cat):
    ca = cat["ca"]
    prefix = ca["account_uri_prefix"]
    jobs = plan(cat, args.kind)
    only = set(args.only.split(",")) if args.only else None

    def one(job):
        sc, items, skip = job
        req = sc.get("request", {})
        acct = req.get("account_uri", ca["account_uri"])
        acct_id = int(acct[len(prefix):]) if acct.startswith(prefix) and \
            acct[len(prefix):].isdigit() else 0
        method = req.get("method", ca["method"])
        res = {"name": sc["name"], "group": group_of(sc), "ref": sc.get("ref", ""),
               "about": sc.get("about", ""), "account_uri": acct, "method": method,
               "checks": []}
        if "room" in sc:
            res["room"] = sc["room"]
        if skip or (only and res["group"] not in only and sc["name"] not in only):
            res["status"] = "skipped"
            res["skipped"] = skip or "not selected (--only)"
            return res
        t0 = time.monotonic()
        agree = True
        for ident, exp in items:
            got = checker.check(ident, sc.get("identifier_type", "dns"), acct, acct_id, method)
            ok, kind = judge(exp["verdict"], got)
            agree = agree and ok
            res["checks"].append({"identifier": ident, "expected": exp["verdict"],
                                  "expected_reason": exp.get("reason", ""),
                                  "got": got.as_json(), "agree": ok, "kind": kind})
        res["elapsed_s"] = round(time.monotonic() - t0, 3)
        res["status"] = "agree" if agree else "differ"
        if "room" in sc:
            got = next((c["got"]["verdict"] for c in res["checks"] if not c["agree"]),
                       res["checks"][0]["got"]["verdict"])
            readings = sc["room"].get("readings", {})
            res["reading"] = readings.get(got) or (
                readings.get("FORBIDDEN") or readings.get("LOOKUP_FAILED")
                if got == "REFUSED" else None) or "(no reading listed for %s)" % got
        return res

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(one, jobs))
    return results


# ------------------------------------------------------------ reports

def summarise(results):
    groups, tot = {}, {"scored": 0, "agree": 0, "differ": 0, "skipped": 0, "room": 0,
                       "room_agree": 0, "unsafe": 0}
    for r in results:
        g = groups.setdefault(r["group"], {"scored": 0, "agree": 0, "differ": 0, "skipped": 0,
                                           "room": 0, "room_agree": 0})
        if r["status"] == "skipped":
            g["skipped"] += 1
            tot["skipped"] += 1
        elif "room" in r:
            g["room"] += 1
            tot["room"] += 1
            g["room_agree"] += r["status"] == "agree"
            tot["room_agree"] += r["status"] == "agree"
        else:
            for d in (g, tot):
                d["scored"] += 1
                d[r["status"]] += 1
            tot["unsafe"] += any(c["kind"] == "unsafe" for c in r["checks"])
    tot["score"] = round(100.0 * tot["agree"] / tot["scored"], 1) if tot["scored"] else 0.0
    return groups, tot


def _got_text(c):
    g = c["got"]
    s = g["verdict"] + (" " + g["reason"] if g["reason"] else "")
    return s + (": " + g["detail"] if g["detail"] else "")


def print_table(results, groups, tot, checker, out):
    w = out.write
    w("CAA conformance: %s, %d scenarios of the lab's catalogue\n\n" % (checker, len(results)))
    w("%-10s %7s %7s %7s %6s %8s\n" % ("group", "scored", "agree", "differ", "room", "skipped"))
    for g in sorted(groups, key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else 99):
        d = groups[g]
        w("%-10s %7d %7d %7d %6s %8d\n" % (g, d["scored"], d["agree"], d["differ"],
                                           "%d/%d" % (d["room_agree"], d["room"]), d["skipped"]))
    w("%-10s %7d %7d %7d %6s %8d\n" % ("total", tot["scored"], tot["agree"], tot["differ"],
                                       "%d/%d" % (tot["room_agree"], tot["room"]),
                                       tot["skipped"]))
    w("\nscore: %d/%d = %.1f %% of the scored scenarios (room: %d of %d answered as the "
      "catalogue)\n" % (tot["agree"], tot["scored"], tot["score"], tot["room_agree"],
                         tot["room"]))
    differ = [r for r in results if r["status"] == "differ" and "room" not in r]
    if differ:
        w("\ndisagreements (%d%s):\n" % (len(differ), ", %d unsafe" % tot["unsafe"]
                                          if tot["unsafe"] else ""))
        for r in differ:
            bad = [c for c in r["checks"] if not c["agree"]]
            c = bad[0]
            more = " (and %d more of %d identifiers)" % (len(bad) - 1, len(r["checks"])) \
                if len(bad) > 1 else ""
            w("  %-8s %s [%s] %s: expected %s %s, got %s%s\n" % (
                c["kind"], r["name"], r["ref"], c["identifier"], c["expected"],
                c["expected_reason"], _got_text(c), more))
    rooms = [r for r in results if "room" in r and r["status"] != "skipped"]
    if rooms:
        w("\nwhere the RFCs leave room (not scored):\n")
        for r in rooms:
            c = next((c for c in r["checks"] if not c["agree"]), r["checks"][0])
            w("  %-5s %s: %s -> %s\n" % ("same" if r["status"] == "agree" else "other",
                                         r["name"], c["got"]["verdict"], r["reading"]))


def write_junit(results, path, checker):
    root = ET.Element("testsuites", name="caa-lab conformance: %s" % checker)
    by = {}
    for r in results:
        by.setdefault(r["group"], []).append(r)
    for g, rs in by.items():
        s = ET.SubElement(root, "testsuite", name=g, tests=str(len(rs)),
                          failures=str(sum(r["status"] == "differ" and "room" not in r
                                           for r in rs)),
                          skipped=str(sum(r["status"] == "skipped" for r in rs)))
        for r in rs:
            tc = ET.SubElement(s, "testcase", classname="conformance." + g, name=r["name"],
                               time=str(r.get("elapsed_s", 0)))
            if r["status"] == "skipped":
                ET.SubElement(tc, "skipped", message=r["skipped"])
            elif "room" in r:
                ET.SubElement(tc, "system-out").text = "room: %s; answer implies: %s" % (
                    r["room"].get("about", ""), r["reading"])
            elif r["status"] == "differ":
                bad = [c for c in r["checks"] if not c["agree"]]
                f = ET.SubElement(tc, "failure", type=bad[0]["kind"], message=(
                    "%s: expected %s, got %s" % (bad[0]["identifier"], bad[0]["expected"],
                                                 _got_text(bad[0]))))
                f.text = "\n".join("%s: expected %s %s, got %s" % (
                    c["identifier"], c["expected"], c["expected_reason"], _got_text(c))
                    for c in bad) + "\n(%s)" % r["ref"]
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


# ------------------------------------------------------------ lab and checker process

def lab_env(lab):
    env = {}
    with open(os.path.join(lab, "lab.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = shlex.split(v)[0] if v else ""
    return env


def wait_port(hostport, secs, proc):
    host, _, port = hostport.rpartition(":")
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def main(argv):
    ap = argparse.ArgumentParser(
        prog="caa-lab conformance",
        description="Run the lab's CAA scenario catalogue against a checker (docs/conformance.md).")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--docaa", metavar="HOST:PORT", help="a va.CAA/DoCAA endpoint (Boulder's VA, caad)")
    which.add_argument("--caa-v1", metavar="HOST:PORT", help="a caa.v1 endpoint (caad)")
    which.add_argument("--cmd", metavar="TEMPLATE",
                       help="a command per identifier: {name} {method} {account_uri} {account_id} "
                            "{type} {lab} {resolver}; exit 0 = permitted")
    ap.add_argument("--cmd-json", action="store_true",
                    help="--cmd prints a JSON line {\"verdict\": \"PERMITTED|FORBIDDEN|LOOKUP_FAILED\"}")
    ap.add_argument("--tls", action="store_true", help="TLS to the endpoint (system roots)")
    ap.add_argument("--ca", help="TLS: verify the endpoint with these PEM roots")
    ap.add_argument("--cert", help="TLS: client certificate (PEM) for mutual TLS")
    ap.add_argument("--key", help="TLS: its private key (PEM)")
    ap.add_argument("--server-name", help="TLS: the name expected in the endpoint's certificate")
    ap.add_argument("--lab", metavar="DIR", help="use the lab running in DIR (default: bring one up)")
    ap.add_argument("--start", metavar="COMMAND",
                    help="start the checker after the lab is up ({lab} {resolver} {net} substituted), "
                         "wait for its port, stop it (by PID) at the end")
    ap.add_argument("--catalogue", default=os.environ.get("CAA_LAB_CATALOGUE",
                                                          os.path.join(HERE, "scenarios.json")))
    ap.add_argument("--only", metavar="GROUPS", help="comma-separated groups or scenario names")
    ap.add_argument("--jobs", type=int, default=8, help="scenarios in flight (default 8)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per check (default 60)")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    args = ap.parse_args(argv)
    if (args.ca or args.cert or args.key or args.server_name) and not args.cmd:
        args.tls = True
    if bool(args.cert) != bool(args.key):
        ap.error("--cert and --key go together")
    if args.cmd_json and not args.cmd:
        ap.error("--cmd-json needs --cmd")
    args.kind = "docaa" if args.docaa else "v1" if args.caa_v1 else "cmd"

    with open(args.catalogue) as f:
        cat = json.load(f)

    own_lab = None
    started = None
    try:
        if args.lab:
            lab = os.path.abspath(args.lab)
            st = subprocess.run([CAA_LAB, "status", lab], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
            if st.returncode != 0:
                print("caa-lab conformance: no running lab in %s (caa-lab status %s)" % (lab, lab),
                      file=sys.stderr)
                return 3
        else:
            own_lab = lab = tempfile.mkdtemp(prefix="caa-conformance.")
            env = dict(os.environ, CAA_LAB_NET=os.environ.get("CAA_LAB_NET", "auto"),
                       CAA_LAB_CATALOGUE=args.catalogue)
            print("caa-lab conformance: bringing the lab up in %s" % lab, file=sys.stderr)
            up = subprocess.run([CAA_LAB, "up", lab], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
            if up.returncode != 0:
                print(up.stderr, file=sys.stderr)
                print("caa-lab conformance: the lab did not come up", file=sys.stderr)
                return 3
        le = lab_env(lab)
        extra = {"lab": lab, "net": le.get("CAA_LAB_NET", ""),
                 "resolver": le.get("CAA_LAB_ADDR_RESOLVER", "") + ":53"}
        if args.start:
            cmd = args.start.format(**{k: shlex.quote(v) for k, v in extra.items()})
            started = subprocess.Popen(["/bin/sh", "-c", "exec " + cmd], stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        target = args.docaa or args.caa_v1
        if target and not wait_port(target, 30 if started else 5, started):
            print("caa-lab conformance: nothing answers on %s" % target, file=sys.stderr)
            return 3
        tls = {"tls": args.tls, "ca": args.ca, "cert": args.cert, "key": args.key,
               "server_name": args.server_name}
        if args.docaa:
            checker, what = DoCAAChecker(args.docaa, tls, args.timeout), "DoCAA " + args.docaa
        elif args.caa_v1:
            checker, what = V1Checker(args.caa_v1, tls, args.timeout), "caa.v1 " + args.caa_v1
        else:
            checker = CmdChecker(args.cmd, args.cmd_json, args.timeout, extra)
            what = "command %r%s" % (args.cmd, " (JSON verdict)" if args.cmd_json else "")
        t0 = time.monotonic()
        results = run(args, checker, cat)
        groups, tot = summarise(results)
        tot["elapsed_s"] = round(time.monotonic() - t0, 1)
        print_table(results, groups, tot, what, sys.stdout)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"format": "caa-lab-conformance/1", "checker": what,
                           "catalogue": os.path.abspath(args.catalogue), "summary": tot,
                           "groups": groups, "scenarios": results}, f, indent=1)
                f.write("\n")
        if args.junit:
            write_junit(results, args.junit, what)
        return 0 if tot["differ"] == 0 else 1
    except Usage as e:
        print("caa-lab conformance: %s" % e, file=sys.stderr)
        return 2
    finally:
        if started is not None and started.poll() is None:
            os.killpg(started.pid, signal.SIGTERM)
            try:
                started.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(started.pid, signal.SIGKILL)
                started.wait()
        if own_lab:
            subprocess.run([CAA_LAB, "down", own_lab], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            subprocess.run(["rm", "-rf", own_lab])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
