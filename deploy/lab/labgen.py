#!/usr/bin/python3
"""labgen.py — the DNS lab's generator: scenario catalogue in, a runnable lab out.

Run with Debian's /usr/bin/python3 (standard library only; a pyenv python3 on
PATH would work too, but the lab promises nothing beyond the stdlib).

  labgen.py check    CATALOGUE               validate the catalogue, exit 1 on errors
  labgen.py generate CATALOGUE DIR NET       write zones (signed now), NSD/unbound/caa
                                             configs, faultdns.json and lab.json into DIR
  labgen.py portcheck DIR                    can every server address in DIR/lab.json be bound?
  labgen.py freenet  CATALOGUE               the first 127.N whose lab addresses are all free
  labgen.py probe    DIR [--timeout S]       wait until every server in DIR/lab.json answers
  labgen.py summary  DIR                     print addresses, PIDs and files
  labgen.py smoke    CATALOGUE DIR           every NSD zone validates as declared (needs the
                                             lab's resolver)
  labgen.py perspectives DIR N [--base-port P] [--view I=VIEW]...
                                             configs for a primary caad and N remote caads
                                             on loopback into DIR/perspectives (docs/lab.md)
  labgen.py table    CATALOGUE [--check|--update DOC]
                                             the scenario table of docs/lab.md (Markdown);
                                             --check: is DOC's table current; --update: rewrite it

NET is the first two octets of the lab's 127/8 range, e.g. "127.53"; servers in
the catalogue name their address relative to it ("0.1" -> 127.53.0.1).
"""
import datetime
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

# ---------------------------------------------------------------- constants

VERDICT_REASONS = {
    "PERMITTED": {"NO_CAA", "NO_RESTRICTING_PROPERTY", "AUTHORIZED", "NOT_APPLICABLE"},
    "FORBIDDEN": {"NOT_AUTHORIZED", "CRITICAL_TAG", "ACCOUNT_URI_MISMATCH",
                  "VALIDATION_METHOD_MISMATCH", "MALFORMED_PROPERTY"},
    "LOOKUP_FAILED": {"DNS_SERVFAIL", "DNS_TIMEOUT", "DNS_NXDOMAIN_TLD", "DNS_REFUSED",
                      "DNS_NOTIMP", "DNS_FORMERR", "DNS_NETWORK", "DNSSEC_BOGUS",
                      "DNS_NODATA_WITHOUT_SOA"},
}
DNSSEC_STATES = {"SECURE", "INSECURE", "BOGUS", "INDETERMINATE"}
ZONE_DNSSEC = {"signed", "unsigned", "expired", "unsigned-with-ds", "ds-mismatch", "tampered"}
SERVER_KINDS = {"nsd", "fault", "resolver", "none"}
FAULT_ACTIONS = {"answer", "servfail", "refused", "notimp", "formerr", "drop", "tc", "reset",
                 "flap", "upward"}
PROBLEM_CAA = "urn:ietf:params:acme:error:caa"
PROBLEM_DNS = "urn:ietf:params:acme:error:dns"
SERVFAIL_HINT = " - the domain's nameservers may be malfunctioning"
NXDOMAIN_HINT = " - check that a DNS record exists for this domain"
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "DNAME": 39,
         "DS": 43, "CAA": 257}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
DEFAULT_TTL = 300
NEGATIVE_TTL = 60
ROOT_NS = "ns.lab-root."
VIEW_REAL = "real"  # the view every lab has: the lab as generated
RIRS = ("ARIN", "RIPE", "APNIC", "LACNIC", "AFRINIC")  # perspective.rir (lib/config.c)


class LabError(Exception):
    pass


# ---------------------------------------------------------------- names

def absname(name):
    """Lowercase absolute name with a trailing dot ("." for the root)."""
    name = name.strip().lower()
    if name in ("", "."):
        return "."
    return name if name.endswith(".") else name + "."


def is_sub(name, zone):
    return zone == "." or name == zone or name.endswith("." + zone)


def parent_name(name):
    if name == ".":
        return None
    rest = name.split(".", 1)[1]
    return rest if rest else "."


def depth(name):
    return 0 if name == "." else name.count(".")


def name_wire(name):
    name = absname(name)
    if name == ".":
        return b"\x00"
    out = b""
    for label in name[:-1].split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise LabError("bad label in %r" % name)
        out += bytes([len(raw)]) + raw
    if len(out) + 1 > 255:
        raise LabError("name too long: %r" % name)
    return out + b"\x00"


def base_name(identifier):
    """The name the climb starts from: "*.x.lab" -> "x.lab"."""
    return identifier[2:] if identifier.startswith("*.") else identifier


# ---------------------------------------------------------------- records

def tokenize(text):
    """Split RDATA presentation into tokens; quoted strings keep their quotes."""
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= len(text):
                raise LabError("unterminated string in %r" % text)
            tokens.append(text[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def unquote(token):
    """A character-string token (quoted or not) -> bytes, handling \\DDD and \\X."""
    s = token[1:-1] if token.startswith('"') else token
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            if s[i + 1:i + 4].isdigit() and len(s[i + 1:i + 4]) == 3:
                out.append(int(s[i + 1:i + 4]))
                i += 4
            else:
                out += s[i + 1].encode("latin-1")
                i += 2
        else:
            out += s[i].encode("latin-1")
            i += 1
    return bytes(out)


class Record:
    def __init__(self, owner, ttl, rtype, rdata, source):
        self.owner, self.ttl, self.rtype, self.rdata, self.source = owner, ttl, rtype, rdata, source

    @classmethod
    def parse(cls, text, where):
        """ "owner [ttl] [IN] TYPE rdata" with an absolute owner (trailing dot optional)."""
        parts = text.split(None, 1)
        if len(parts) < 2:
            raise LabError("%s: record %r has no type" % (where, text))
        owner, rest = absname(parts[0]), parts[1]
        ttl = DEFAULT_TTL
        m = re.match(r"(\d+)\s+(.*)$", rest)
        if m:
            ttl, rest = int(m.group(1)), m.group(2)
        m = re.match(r"IN\s+(.*)$", rest)
        if m:
            rest = m.group(1)
        parts = rest.split(None, 1)
        rtype = parts[0].upper()
        rdata = parts[1] if len(parts) > 1 else ""
        if rtype not in TYPES and not re.match(r"TYPE\d+$", rtype):
            raise LabError("%s: record %r: type %s is not supported" % (where, text, rtype))
        rec = cls(owner, ttl, rtype, rdata.strip(), where)
        rec.wire()  # fail early on bad RDATA
        return rec

    def type_code(self):
        return TYPES[self.rtype] if self.rtype in TYPES else int(self.rtype[4:])

    def wire(self):
        """RDATA in wire format (uncompressed)."""
        t, text = self.rtype, self.rdata
        tok = tokenize(text)
        try:
            if tok and tok[0] == "\\#":
                n = int(tok[1])
                data = bytes.fromhex("".join(tok[2:]))
                if len(data) != n:
                    raise LabError("generic RDATA length %d != %d" % (len(data), n))
                return data
            if t == "A":
                return socket.inet_pton(socket.AF_INET, tok[0])
            if t == "AAAA":
                return socket.inet_pton(socket.AF_INET6, tok[0])
            if t in ("NS", "CNAME", "DNAME"):
                return name_wire(tok[0])
            if t == "SOA":
                return (name_wire(tok[0]) + name_wire(tok[1]) +
                        struct.pack("!5I", *[int(x) for x in tok[2:7]]))
            if t == "MX":
                return struct.pack("!H", int(tok[0])) + name_wire(tok[1])
            if t == "TXT":
                return b"".join(bytes([len(unquote(x))]) + unquote(x) for x in tok)
            if t == "DS":
                return struct.pack("!HBB", int(tok[0]), int(tok[1]), int(tok[2])) + \
                    bytes.fromhex("".join(tok[3:]))
            if t == "CAA":
                flags, tag, value = int(tok[0]), unquote(tok[1]), unquote(" ".join(tok[2:])
                                                                            if len(tok) > 3
                                                                            else tok[2])
                return bytes([flags, len(tag)]) + tag + value
        except (IndexError, ValueError, OSError) as e:
            raise LabError("%s: bad %s RDATA %r: %s" % (self.source, t, text, e))
        raise LabError("%s: %s RDATA must use the generic \\# form" % (self.source, t))

    def zone_line(self):
        """The record for an NSD zone file. CAA always goes out in RFC 3597 generic
        form: NSD rejects upper-case tags and malformed RDATA in CAA syntax, and the
        catalogue needs both."""
        if self.rtype == "CAA" or self.rtype.startswith("TYPE"):
            w = self.wire()
            rtype = "CAA" if self.rtype == "CAA" else self.rtype
            data = "\\# %d %s" % (len(w), w.hex()) if w else "\\# 0"
            return "%s\t%d\tIN\t%s\t%s" % (self.owner, self.ttl, rtype, data)
        return "%s\t%d\tIN\t%s\t%s" % (self.owner, self.ttl, self.rtype, self.rdata)


# ---------------------------------------------------------------- catalogue

def load_catalogue(path):
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise LabError("%s: %s" % (path, e))


def all_servers(cat):
    out = list(cat.get("servers", []))
    for sc in cat.get("scenarios", []):
        out += sc.get("servers", [])
    return out


def all_zones(cat):
    out = list(cat.get("zones", []))
    for sc in cat.get("scenarios", []):
        out += sc.get("zones", [])
    return out


def all_views(cat):
    v = cat.get("views", [])
    return v if isinstance(v, list) else []


def all_records(cat):
    out = []
    for z in all_zones(cat):
        out += [(r, "zone %s" % z.get("zone")) for r in z.get("records", [])]
    for sc in cat.get("scenarios", []):
        out += [(r, "scenario %s" % sc.get("name")) for r in sc.get("records", [])]
    return out


def expected_detail_ok(exp, ident, where, errors):
    """Problem documents follow docs/semantics.md §8 to the letter."""
    prob = exp.get("problem")
    verdict = exp.get("verdict")
    if verdict == "PERMITTED":
        if prob is not None:
            errors.append("%s: PERMITTED must have problem null" % where)
        return
    if not isinstance(prob, dict):
        errors.append("%s: %s needs a problem" % (where, verdict))
        return
    head = "While processing CAA for %s: " % ident
    detail = prob.get("detail")
    prefix = prob.get("detail_prefix")
    if verdict == "FORBIDDEN":
        want = head + "CAA record for %s prevents issuance" % exp.get("relevant_domain")
        if prob.get("type") != PROBLEM_CAA or prob.get("status") != 403:
            errors.append("%s: FORBIDDEN is type %s, status 403" % (where, PROBLEM_CAA))
        if detail != want:
            errors.append("%s: detail should be %r" % (where, want))
    else:
        if prob.get("type") != PROBLEM_DNS or prob.get("status") != 400:
            errors.append("%s: LOOKUP_FAILED is type %s, status 400" % (where, PROBLEM_DNS))
        text = detail if detail is not None else prefix
        if text is None or not text.startswith(head + "DNS problem: "):
            errors.append("%s: detail must start with %r" % (where, head + "DNS problem: "))
        if (detail is None) == (prefix is None):
            errors.append("%s: give exactly one of detail, detail_prefix" % where)
        reason = exp.get("reason")
        if detail is not None and reason in ("DNS_SERVFAIL", "DNS_NODATA_WITHOUT_SOA") \
                and not detail.endswith(SERVFAIL_HINT):
            errors.append("%s: a SERVFAIL detail ends with the hint %r" % (where, SERVFAIL_HINT))
        if detail is not None and reason == "DNS_NXDOMAIN_TLD" and not detail.endswith(NXDOMAIN_HINT):
            errors.append("%s: an NXDOMAIN detail ends with the hint %r" % (where, NXDOMAIN_HINT))
        if reason == "DNSSEC_BOGUS" and not (prefix or "").endswith("DNS problem: DNSSEC: "):
            errors.append("%s: DNSSEC_BOGUS uses detail_prefix '... DNS problem: DNSSEC: '" % where)


def check_expect(exp, ident, where, errors):
    if not isinstance(exp, dict):
        errors.append("%s: expect must be an object" % where)
        return
    v, r = exp.get("verdict"), exp.get("reason")
    if v not in VERDICT_REASONS:
        errors.append("%s: verdict %r" % (where, v))
        return
    if r not in VERDICT_REASONS[v]:
        errors.append("%s: reason %r does not go with %s" % (where, r, v))
    if exp.get("dnssec") not in DNSSEC_STATES:
        errors.append("%s: dnssec %r" % (where, exp.get("dnssec")))
    rel = exp.get("relevant_domain")
    if not isinstance(rel, str):
        errors.append("%s: relevant_domain must be a string" % where)
    elif (v == "FORBIDDEN" or r in ("AUTHORIZED", "NO_RESTRICTING_PROPERTY")) != (rel != ""):
        errors.append("%s: relevant_domain %r does not fit %s/%s" % (where, rel, v, r))
    elif rel and not is_sub(absname(base_name(ident)), absname(rel)):
        errors.append("%s: relevant_domain %s is not %s or above it" % (where, rel, ident))
    expected_detail_ok(exp, ident, where, errors)
    d = exp.get("diagnosed")
    if d is not None:
        text = d.get("detail", d.get("detail_prefix", "")) if isinstance(d, dict) else ""
        if not isinstance(d, dict) or d.get("reason") not in VERDICT_REASONS["LOOKUP_FAILED"] \
                or not text.startswith("While processing CAA for %s: DNS problem: " % ident):
            errors.append("%s: diagnosed needs a LOOKUP_FAILED reason and a detail" % where)
    known = {"verdict", "reason", "relevant_domain", "dnssec", "problem", "cause", "diagnosed",
             "flags", "note"}
    for k in exp:
        if k not in known:
            errors.append("%s: unknown expect key %r" % (where, k))


def check_scenario_expect(sc, exp, where, errors):
    """One expectation for a scenario: an identifier's, or an order's."""
    if "identifier" in sc:
        check_expect(exp, sc["identifier"], where, errors)
        return
    order = sc["order"]
    if not isinstance(exp, dict):
        errors.append("%s: expect must be an object" % where)
        return
    if not isinstance(order, list) or len(order) < 2 or len(set(order)) != len(order):
        errors.append("%s: order must list distinct identifiers" % where)
        return
    by = exp.get("by_identifier", {})
    for ident in by:
        if ident not in order:
            errors.append("%s: by_identifier %s is not in the order" % (where, ident))
    failed = []
    for ident in order:
        e = by.get(ident) or exp.get("each")
        if e is None:
            errors.append("%s: no expectation for %s" % (where, ident))
            continue
        check_expect(e, ident, "%s[%s]" % (where, ident), errors)
        if e.get("verdict") != "PERMITTED":
            failed.append((ident, e))
    prob = exp.get("problem", "missing")
    if not failed and prob is not None:
        errors.append("%s: an order with no failure has problem null" % where)
    if len(failed) == 1 and (not isinstance(prob, dict) or
                             prob.get("detail") != failed[0][1]["problem"].get("detail")):
        errors.append("%s: one failure -> the order's problem is that failure's" % where)
    if len(failed) > 1:
        want = ('Rechecking CAA for "%s" and %d more identifiers failed. Refer to '
                "sub-problems for more information" % (failed[0][0], len(failed) - 1))
        if not isinstance(prob, dict) or prob.get("detail") != want or \
                prob.get("type") != PROBLEM_CAA or prob.get("status") != 403:
            errors.append("%s: the order's problem is caa/403 %r" % (where, want))


def scenario_names(sc):
    """The identifiers a scenario checks, wildcards stripped to the name climbed from."""
    idents = sc["order"] if "order" in sc else [sc.get("identifier")]
    return [absname(base_name(i)) for i in idents if isinstance(i, str)]


def check_views(cat, servers, zones, errors):
    """The catalogue's per-perspective views (docs/lab.md, "Views"). Returns them by name."""
    views = {}
    used = {}  # server -> view
    for i, v in enumerate(all_views(cat)):
        n = v.get("name", "#%d" % i) if isinstance(v, dict) else "#%d" % i
        where = "view %s" % n
        if not isinstance(v, dict) or not re.match(r"^[a-z0-9][a-z0-9-]*$", str(n)):
            errors.append("%s: a view is an object with a name [a-z0-9-]+" % where)
            continue
        if n in views:
            errors.append("%s: name used twice" % where)
        views[n] = v
        for k in v:
            if k not in ("name", "about", "zone", "server", "records", "unbound"):
                errors.append("%s: unknown key %r" % (where, k))
        if n == VIEW_REAL:
            if any(k in v for k in ("zone", "server", "records")):
                errors.append("%s: the real view is the lab as generated (no zone, server, "
                              "records)" % where)
            continue
        for opt in v.get("unbound", []):
            if not isinstance(opt, str) or not re.match(r"^[a-z0-9-]+: \S", opt):
                errors.append("%s: unbound option %r is not 'name: value'" % (where, opt))
        zone, srv = absname(v.get("zone", "")), v.get("server")
        z = zones.get(zone)
        if z is None or zone == ".":
            errors.append("%s: zone %r is not a zone of the lab" % (where, v.get("zone")))
            continue
        if z.get("dnssec", "unsigned") != "unsigned" or z.get("lame"):
            errors.append("%s: zone %s must be an unsigned (insecurely delegated), served zone: "
                          "a view serves its own copy, unsigned" % (where, zone))
        if srv not in servers or servers[srv]["kind"] not in ("nsd", "fault"):
            errors.append("%s: server %r must be an nsd or fault server" % (where, srv))
            continue
        if srv in used:
            errors.append("%s: server %s also serves view %s" % (where, srv, used[srv]))
        used[srv] = n
        for zn, zz in zones.items():
            if srv in (zz["server"] if isinstance(zz["server"], list) else [zz["server"]]):
                errors.append("%s: server %s also serves zone %s: a view's server serves the "
                              "view only" % (where, srv, zn))
        for rec in v.get("records", []):
            try:
                r = Record.parse(rec, where)
            except LabError as e:
                errors.append(str(e))
                continue
            if not is_sub(r.owner, zone) or any(is_sub(r.owner, zn) and depth(zn) > depth(zone)
                                                for zn in zones):
                errors.append("%s: %s is not in zone %s" % (where, r.owner, zone))
    if views and VIEW_REAL not in views:
        errors.append("views: a %r view is required (the lab as generated)" % VIEW_REAL)
    return views


def check_scenario_views(sc, views, zones, where, errors):
    """A scenario under a view's zone says what each view answers ("views")."""
    sv = sc.get("views")
    names = scenario_names(sc)
    if sv is None:
        sv = {}
    elif not isinstance(sv, dict):
        errors.append("%s: views must be an object {view: expect}" % where)
        return
    for vn, v in views.items():
        if vn == VIEW_REAL:
            continue
        under = [n for n in names if is_sub(n, absname(v.get("zone", "")))]
        if under and vn not in sv:
            errors.append("%s: %s is in view %s's zone: add views.%s" % (where, under[0], vn, vn))
    for vn, exp in sv.items():
        if vn == VIEW_REAL:
            errors.append("%s: the real view's expectation is expect" % where)
        elif vn not in views:
            errors.append("%s: views.%s: no such view" % (where, vn))
        elif "identifier" in sc or "order" in sc:
            check_scenario_expect(sc, exp, "%s view %s" % (where, vn), errors)


def validate(cat):
    """Every error found, as strings (empty list: the catalogue is usable)."""
    errors = []
    for key in ("format", "ca", "servers", "zones", "scenarios"):
        if key not in cat:
            errors.append("catalogue: missing %r" % key)
    if errors:
        return errors
    profiles = cat.get("profiles", {})
    servers = {}
    addrs = {}
    for s in all_servers(cat):
        n = s.get("name")
        if n in servers:
            errors.append("server %s defined twice" % n)
        servers[n] = s
        if s.get("kind") not in SERVER_KINDS:
            errors.append("server %s: kind %r" % (n, s.get("kind")))
        a = s.get("addr", "")
        if not re.match(r"^\d{1,3}\.\d{1,3}$", a) or any(int(x) > 255 for x in a.split(".")):
            errors.append("server %s: addr %r is not 'X.Y' (relative to the lab's net)" % (n, a))
        if a in addrs:
            errors.append("servers %s and %s share address %s" % (addrs[a], n, a))
        addrs[a] = n
        for i, rule in enumerate(s.get("rules", [])):
            if rule.get("action") not in FAULT_ACTIONS:
                errors.append("server %s rule %d: action %r" % (n, i, rule.get("action")))
            if "qtype" in rule and rule["qtype"] not in TYPES:
                errors.append("server %s rule %d: qtype %r" % (n, i, rule["qtype"]))
        if s.get("rules") and s.get("kind") != "fault":
            errors.append("server %s: only fault servers have rules" % n)
    zones = {}
    for z in all_zones(cat):
        name = absname(z.get("zone", ""))
        if name in zones:
            errors.append("zone %s defined twice" % name)
        zones[name] = z
        srv = z.get("server")
        for sn in (srv if isinstance(srv, list) else [srv]):
            if sn not in servers:
                errors.append("zone %s: unknown server %r" % (name, sn))
            elif servers[sn]["kind"] not in ("nsd", "fault", "none"):
                errors.append("zone %s: server %s cannot serve zones" % (name, sn))
            elif servers[sn]["kind"] != "nsd" and z.get("dnssec", "unsigned") != "unsigned":
                errors.append("zone %s: only NSD-served zones can be signed" % name)
            elif servers[sn]["kind"] == "none" and not z.get("lame"):
                errors.append("zone %s: server %s serves nothing; mark the zone lame" % (name, sn))
        if z.get("dnssec", "unsigned") not in ZONE_DNSSEC:
            errors.append("zone %s: dnssec %r" % (name, z.get("dnssec")))
    if "." not in zones:
        errors.append("no root zone")
    for rec, where in all_records(cat):
        try:
            r = Record.parse(rec, where)
            owner_zone = max((zn for zn in zones if is_sub(r.owner, zn)), key=depth, default=None)
            if owner_zone is None:
                errors.append("%s: no zone holds %s" % (where, r.owner))
            elif zones[owner_zone].get("lame"):
                errors.append("%s: %s would be in lame zone %s" % (where, r.owner, owner_zone))
        except LabError as e:
            errors.append(str(e))
    views = check_views(cat, servers, zones, errors)
    names = set()
    for i, sc in enumerate(cat["scenarios"]):
        n = sc.get("name", "#%d" % i)
        where = "scenario %s" % n
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", n):
            errors.append("%s: name must be [a-z0-9-]+" % where)
        if n in names:
            errors.append("%s: name used twice" % where)
        names.add(n)
        for k in ("about", "ref", "expect"):
            if k not in sc:
                errors.append("%s: missing %r" % (where, k))
        req = sc.get("request", {})
        pol = req.get("policy")
        if pol is not None and pol not in profiles:
            errors.append("%s: policy %r is not a profile" % (where, pol))
        if ("identifier" in sc) == ("order" in sc):
            errors.append("%s: give identifier or order" % where)
        elif "expect" in sc:
            check_scenario_expect(sc, sc["expect"], where, errors)
        check_scenario_views(sc, views, zones, where, errors)
        room = sc.get("room")
        if room is not None:  # where the RFCs leave room (docs/conformance.md)
            rd = room.get("readings") if isinstance(room, dict) else None
            if not isinstance(rd, dict) or not room.get("about") or \
                    any(k not in VERDICT_REASONS or not v for k, v in rd.items()) or \
                    sc.get("expect", {}).get("verdict") not in rd or len(rd) < 2:
                errors.append("%s: room needs about and readings {verdict: reading} for the "
                              "expected verdict and at least one other" % where)
        q = sc.get("queries")
        if q is not None and (q.get("server") not in servers or "max" not in q):
            errors.append("%s: queries needs a known server and max" % where)
    return errors


# ---------------------------------------------------------------- generation

def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise LabError("%s failed: %s" % (" ".join(cmd), p.stderr.strip() or p.stdout.strip()))
    return p.stdout


def utc_stamp(dt):
    return dt.strftime("%Y%m%d%H%M%S")


class Lab:
    def __init__(self, cat, out, net):
        if not re.match(r"^127\.\d{1,3}$", net) or int(net.split(".")[1]) > 255:
            raise LabError("net %r must look like 127.N" % net)
        self.cat, self.out, self.net = cat, os.path.abspath(out), net
        self.servers = {s["name"]: s for s in all_servers(cat)}
        self.zones = {}
        for z in all_zones(cat):
            z = dict(z)
            z["zone"] = absname(z["zone"])
            srv = z["server"]
            z["servers"] = srv if isinstance(srv, list) else [srv]
            z["records"] = []
            self.zones[z["zone"]] = z
        for rec, where in all_records(cat):
            r = Record.parse(rec, where)
            self.zones[self.owner_zone(r.owner)]["records"].append(r)
        self.views = [dict(v) for v in all_views(cat)]
        for v in self.views:
            if "zone" in v:
                v["zone"] = absname(v["zone"])
                v["records"] = [Record.parse(r, "view " + v["name"]) for r in v.get("records", [])]
        self.view_records = {}  # (server, zone) -> the view's copy of the zone

    def addr(self, server):
        return "%s.%s" % (self.net, self.servers[server]["addr"])

    def owner_zone(self, owner):
        return max((zn for zn in self.zones if is_sub(owner, zn)), key=depth)

    def parent_zone(self, zone):
        p = parent_name(zone)
        return self.owner_zone(p) if p else None

    def ns_names(self, zone):
        z = self.zones[zone]
        if zone == ".":
            return [(ROOT_NS, z["servers"][0])]
        if len(z["servers"]) == 1:
            return [("ns." + zone, z["servers"][0])]
        return [("ns%d.%s" % (i + 1, zone), s) for i, s in enumerate(z["servers"])]

    def filename(self, zone):
        return "root" if zone == "." else zone[:-1]

    def build_records(self):
        """SOA, NS and glue for every zone, and the delegation in its parent."""
        for zone, z in self.zones.items():
            mname = self.ns_names(zone)[0][0]
            rname = "hostmaster." + (zone if zone != "." else "lab-root.")
            recs = [Record.parse("%s %d SOA %s %s 1 3600 900 604800 %d" %
                                 (zone, DEFAULT_TTL, mname, rname, NEGATIVE_TTL), zone)]
            for ns, srv in self.ns_names(zone):
                recs.append(Record.parse("%s 3600 NS %s" % (zone, ns), zone))
                if is_sub(ns, zone):
                    recs.append(Record.parse("%s 3600 A %s" % (ns, self.addr(srv)), zone))
            z["records"] = recs + z["records"]
        for zone, z in self.zones.items():
            if zone == ".":
                continue
            pz = self.zones[self.parent_zone(zone)]
            for ns, srv in self.ns_names(zone):
                pz["records"].append(Record.parse("%s 3600 NS %s" % (zone, ns), zone))
                pz["records"].append(Record.parse("%s 3600 A %s" % (ns, self.addr(srv)), zone))

    def keygen(self, zone, tag):
        kdir = os.path.join(self.out, "keys", self.filename(zone) + tag)
        os.makedirs(kdir, exist_ok=True)
        base = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=kdir).strip()
        ds = run(["ldns-key2ds", "-n", "-2", base + ".key"], cwd=kdir).strip()
        return os.path.join(kdir, base), ds

    def sign(self, zone, z, unsigned_path, served_path):
        """Sign (or deliberately mis-sign) one zone; returns the DS line for the parent."""
        mode = z.get("dnssec", "unsigned")
        now = datetime.datetime.now(datetime.timezone.utc)
        if mode == "unsigned":
            shutil.copyfile(unsigned_path, served_path)
            return None
        key, ds = self.keygen(zone, "")
        if mode == "unsigned-with-ds":
            shutil.copyfile(unsigned_path, served_path)
            return ds
        sign_key = key
        if mode == "ds-mismatch":
            sign_key, _ = self.keygen(zone, ".other")
        inception, expiration = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)
        if mode == "expired":
            # Validators forgive clock skew: unbound up to 10% of the validity
            # period, at most val-sig-skew-max (1 day). Expire well past it.
            inception, expiration = now - datetime.timedelta(days=40), now - datetime.timedelta(days=5)
        signed = served_path + ".ldns"
        run(["ldns-signzone", "-i", utc_stamp(inception), "-e", utc_stamp(expiration),
             "-f", signed, unsigned_path, sign_key])
        # ldns prints CAA in a syntax NSD rejects (upper-case tags) or not at all
        # (tag length 0): drop its CAA lines and put ours back in generic form.
        # The signatures cover the wire form, which is the same either way.
        caa = [r for r in z["records"] if r.rtype == "CAA"]
        tampered = {}
        for t in z.get("tamper", []):
            tampered[Record.parse(t["from"], zone).zone_line()] = Record.parse(t["to"], zone)
        lines = []
        with open(signed) as f:
            for line in f:
                tok = line.split()
                if not tok or line.startswith(";") or (len(tok) > 3 and tok[3] == "CAA"):
                    continue
                lines.append(line.rstrip("\n"))
        for r in caa:
            served = tampered.get(r.zone_line(), r)
            lines.append(served.zone_line())
        with open(served_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.unlink(signed)
        return ds

    def generate(self):
        out = self.out
        os.makedirs(os.path.join(out, "zones"), exist_ok=True)
        self.build_records()
        nsd_zones = {}    # server -> [(zone, served file)]
        fault_zones = {}  # server -> [zone]
        # Children first: a signed child's DS goes into its parent before the parent is signed.
        for zone in sorted(self.zones, key=depth, reverse=True):
            z = self.zones[zone]
            if z.get("lame"):
                continue  # delegated to its servers, loaded by none of them
            if self.servers[z["servers"][0]]["kind"] == "fault":
                for s in z["servers"]:
                    fault_zones.setdefault(s, []).append(zone)
                continue
            fn = os.path.join(out, "zones", self.filename(zone))
            with open(fn + ".zone", "w") as f:
                f.write("; generated by labgen.py from scenarios.json; do not edit\n")
                f.write("$TTL %d\n" % DEFAULT_TTL)
                f.write("\n".join(r.zone_line() for r in z["records"]) + "\n")
            ds = self.sign(zone, z, fn + ".zone", fn + ".served")
            for s in z["servers"]:
                nsd_zones.setdefault(s, []).append((zone, fn + ".served"))
            if ds and zone != ".":
                self.zones[self.parent_zone(zone)]["records"].append(Record.parse(ds, zone))
            if zone == ".":
                with open(os.path.join(out, "root.key"), "w") as f:
                    f.write("; trust anchor of the lab's fake root, generated %s\n" %
                            datetime.datetime.now(datetime.timezone.utc).isoformat())
                    f.write(ds + "\n")
        self.generate_views(nsd_zones, fault_zones)
        self.write_nsd(nsd_zones)
        self.write_faultdns(fault_zones)
        self.write_resolver_confs()
        self.write_caa_json()
        self.write_manifest(nsd_zones, fault_zones)

    def generate_views(self, nsd_zones, fault_zones):
        """Each view's copy of its zone, for the view's own server: the zone as the lab
        serves it (SOA, NS and glue included, as a hijacker answering on the real
        server's address would), with the view's records replacing those of the same
        owner and type. Unsigned, as the real zone is (validate() insists)."""
        for v in self.views:
            if "zone" not in v:
                continue
            zone, srv = v["zone"], v["server"]
            replaced = {(r.owner, r.rtype) for r in v["records"]}
            recs = [r for r in self.zones[zone]["records"] if (r.owner, r.rtype) not in replaced]
            recs += v["records"]
            self.view_records[(srv, zone)] = recs
            if self.servers[srv]["kind"] == "fault":
                fault_zones.setdefault(srv, []).append(zone)
                continue
            path = os.path.join(self.out, "zones", "%s@%s.served" % (self.filename(zone),
                                                                      v["name"]))
            with open(path, "w") as f:
                f.write("; generated by labgen.py: zone %s as view %s serves it; do not edit\n"
                        % (zone, v["name"]))
                f.write("$TTL %d\n" % DEFAULT_TTL)
                f.write("\n".join(r.zone_line() for r in recs) + "\n")
            nsd_zones.setdefault(srv, []).append((zone, path))

    def write_nsd(self, nsd_zones):
        for name, zl in sorted(nsd_zones.items()):
            d = os.path.join(self.out, "nsd-" + name)
            os.makedirs(d, exist_ok=True)
            lines = [
                "# generated by labgen.py: NSD for lab server %s" % name,
                "server:",
                "    ip-address: %s" % self.addr(name),
                "    port: 53",
                "    server-count: 1",
                "    username: \"\"",
                "    chroot: \"\"",
                "    zonesdir: \"%s\"" % os.path.join(self.out, "zones"),
                "    database: \"\"",
                "    pidfile: \"%s/nsd.pid\"" % d,
                "    xfrdfile: \"%s/xfrd.state\"" % d,
                "    zonelistfile: \"%s/zone.list\"" % d,
                "    xfrdir: \"%s\"" % d,
                "    logfile: \"%s/nsd.log\"" % d,
                "    verbosity: 1",
                "    hide-version: yes",
                "    # RRL off: tests and benchmarks send bursts from one address",
                "    rrl-ratelimit: 0",
                "    rrl-whitelist-ratelimit: 0",
                "    tcp-count: 256",
                "remote-control:",
                "    control-enable: no",
            ]
            for zone, path in zl:
                lines += ["zone:", "    name: \"%s\"" % zone, "    zonefile: \"%s\"" % path]
            with open(os.path.join(d, "nsd.conf"), "w") as f:
                f.write("\n".join(lines) + "\n")

    def write_faultdns(self, fault_zones):
        servers = []
        for name, s in sorted(self.servers.items(), key=lambda kv: kv[1]["addr"]):
            if s["kind"] != "fault":
                continue
            rules = []
            for r in s.get("rules", []):
                r = dict(r)
                if "qtype" in r:
                    r["qtype"] = TYPES[r["qtype"]]
                rules.append(r)
            zones = []
            for zone in sorted(fault_zones.get(name, [])):
                recs = [{"owner": r.owner, "type": r.type_code(), "ttl": r.ttl,
                         "rdata": r.wire().hex()}
                        for r in self.view_records.get((name, zone), self.zones[zone]["records"])]
                zones.append({"origin": zone, "records": recs})
            entry = {"name": name, "address": self.addr(name), "port": 53, "rules": rules,
                     "zones": zones}
            for k in ("delay_ms", "max_inflight"):
                if k in s:
                    entry[k] = s[k]
            servers.append(entry)
        conf = {"comment": "generated by labgen.py from scenarios.json; do not edit",
                "log": os.path.join(self.out, "faultdns-queries.log"),
                "pidfile": os.path.join(self.out, "faultdns.pid"),
                "servers": servers}
        with open(os.path.join(self.out, "faultdns.json"), "w") as f:
            json.dump(conf, f, indent=1)
            f.write("\n")

    def write_resolver_confs(self):
        out, root = self.out, self.addr("root")
        common = [
            "    do-not-query-localhost: no",
            "    do-ip6: no",
            "    trust-anchor-file: \"%s/root.key\"" % out,
            "    # How long a silent (dropping, unreachable) server costs libunbound: the RTT",
            "    # backs off 376 -> 752 -> 1504 -> 3008 -> 6016 ms, two sends each, until it",
            "    # passes this cap; with 8000 it gives up after ~17 s (measured, 1.17.1). That",
            "    # is on purpose: caad's per-query deadline (5 s) and its retry (5 s more, which",
            "    # joins the same libunbound query) must both expire first, so a silent server",
            "    # shows as a timeout, not as SERVFAIL. (3000 gives up after ~5.3 s, 4000 after",
            "    # 6.6-11 s: a retry then sees SERVFAIL.) Answered failures stay instant.",
            "    infra-cache-max-rtt: 8000",
            "    # Sends to one server address per delegation, counting qname-minimisation",
            "    # steps and timeouts, not only retries after SERVFAIL/REFUSED. Never 1: names",
            "    # two labels below a zone cut then SERVFAIL; 2 ends silent servers early.",
            "    outbound-msg-retry: 5",
            "    # Once a server is marked down (after the 17 s above) every query to its",
            "    # address SERVFAILs at once; forget that after a minute, not 15.",
            "    infra-host-ttl: 60",
            "    val-bogus-ttl: 5",
            "    # why_bogus with the record that failed",
            "    val-log-level: 2",
        ]
        stub = ["stub-zone:", "    name: \".\"", "    stub-addr: %s" % root]
        own = ["    # the process's own stderr, not syslog", "    use-syslog: no", "    verbosity: 0"]
        text = "server:\n" + "\n".join(common + own) + "\n" + "\n".join(stub) + "\n"
        with open(os.path.join(out, "unbound.conf"), "w") as f:
            f.write("# generated by labgen.py: libunbound (ub_ctx_config) resolving through the "
                    "lab\n" + text)
        # A view: the same, except that its zone is resolved at the view's server (a
        # stub zone, as a route to another server would do); the DS query for the
        # zone still goes to its parent, which proves the delegation insecure.
        for v in self.views:
            d = os.path.join(out, "views", v["name"])
            os.makedirs(d, exist_ok=True)
            # The view's own server options replace the lab's of the same name.
            opts = {o.split(":", 1)[0]: o for o in v.get("unbound", [])}
            lines = []
            for line in common + own:
                key = line.split(":", 1)[0].strip()
                if key in opts:
                    lines += ["    # view %s's own value:" % v["name"], "    " + opts.pop(key)]
                else:
                    lines.append(line)
            lines += ["    " + o for o in opts.values()]
            with open(os.path.join(d, "unbound.conf"), "w") as f:
                f.write("# generated by labgen.py: libunbound through the lab as perspective "
                        "view %s sees it\n# (%s)\nserver:\n" % (v["name"], v.get("about", "")) +
                        "\n".join(lines) + "\n" + "\n".join(stub) + "\n")
                if "zone" in v:
                    f.write("stub-zone:\n    name: \"%s\"\n    stub-addr: %s\n"
                            % (v["zone"], self.addr(v["server"])))
        # The same without a trust anchor: nothing is validated, so nothing is
        # proven Insecure (scenarios tagged "no-validation", caa-novalidate.json).
        with open(os.path.join(out, "unbound-novalidate.conf"), "w") as f:
            f.write("# generated by labgen.py: libunbound through the lab, DNSSEC validation off\n"
                    "server:\n" + "\n".join(l for l in common + own if "trust-anchor" not in l) +
                    "\n" + "\n".join(stub) + "\n")
        res = self.servers.get("resolver")
        if res is None:
            return
        with open(os.path.join(out, "resolver.conf"), "w") as f:
            f.write("# generated by labgen.py: a validating unbound daemon on the lab, for CAs\n"
                    "# that want a resolver address (Boulder's dnsResolver, dig, kdig)\n"
                    "server:\n" + "\n".join(common + [
                        "    interface: %s@53" % self.addr("resolver"),
                        "    access-control: 127.0.0.0/8 allow",
                        "    username: \"\"",
                        "    chroot: \"\"",
                        "    directory: \"%s\"" % out,
                        "    pidfile: \"%s/resolver.pid\"" % out,
                        "    logfile: \"%s/resolver.log\"" % out,
                        "    use-syslog: no",
                        "    verbosity: 1",
                        "    do-daemonize: yes",
                        "    num-threads: 1",
                        "    auto-trust-anchor-file: \"\"",
                        "    trust-anchor-signaling: no",
                        "    root-key-sentinel: no",
                        "    msg-cache-size: 16m",
                        "    rrset-cache-size: 32m"]) + "\n" + "\n".join(stub) +
                    "\nremote-control:\n    control-enable: no\n")

    def write_caa_json(self):
        ca = self.cat["ca"]
        conf = {
            "listen": "127.0.0.1:8053",
            "issuer_domains": [ca["issuer_domain"]],
            "account_uri_prefixes": [ca["account_uri_prefix"]],
            "dns": {"unbound_conf": os.path.join(self.out, "unbound.conf"),
                    "trust_anchor_file": os.path.join(self.out, "root.key"),
                    "timeout": "5s", "retries": 1,
                    # The 'busy' server refuses beyond 8 queries in progress
                    # (docs/failures.md 1); the cap stays below it with room for
                    # the resolver's own NS/DS/DNSKEY queries.
                    "max_per_zone": 4},
            "policy": self.cat.get("policy_defaults", {}),
            "profiles": self.cat.get("profiles", {}),
        }
        with open(os.path.join(self.out, "caa.json"), "w") as f:
            json.dump(conf, f, indent=2)
            f.write("\n")
        # Per view: the same with the view's unbound.conf (a perspective's caad or caa).
        for v in self.views:
            vconf = dict(conf, dns=dict(conf["dns"], unbound_conf=os.path.join(
                self.out, "views", v["name"], "unbound.conf")))
            with open(os.path.join(self.out, "views", v["name"], "caa.json"), "w") as f:
                json.dump(vconf, f, indent=2)
                f.write("\n")
        # Validation off (no trust anchor anywhere): for "no-validation" scenarios.
        conf["dns"] = dict(conf["dns"], unbound_conf=os.path.join(self.out,
                                                                  "unbound-novalidate.conf"))
        del conf["dns"]["trust_anchor_file"]
        with open(os.path.join(self.out, "caa-novalidate.json"), "w") as f:
            json.dump(conf, f, indent=2)
            f.write("\n")

    def write_manifest(self, nsd_zones, fault_zones):
        out = self.out
        servers = []
        for name, s in sorted(self.servers.items(), key=lambda kv: [int(x) for x in
                                                                    kv[1]["addr"].split(".")]):
            entry = {"name": name, "kind": s["kind"], "address": self.addr(name),
                     "about": s.get("about", "")}
            if s["kind"] == "nsd":
                entry["zones"] = [z for z, _ in nsd_zones.get(name, [])]
                entry["pidfile"] = os.path.join(out, "nsd-" + name, "nsd.pid")
                entry["config"] = os.path.join(out, "nsd-" + name, "nsd.conf")
                entry["probe"] = entry["zones"][0] if entry["zones"] else None
            elif s["kind"] == "fault":
                entry["zones"] = sorted(fault_zones.get(name, []))
                entry["pidfile"] = os.path.join(out, "faultdns.pid")
                entry["rules"] = s.get("rules", [])
                for k in ("delay_ms", "max_inflight"):
                    if k in s:
                        entry[k] = s[k]
            elif s["kind"] == "resolver":
                entry["pidfile"] = os.path.join(out, "resolver.pid")
                entry["config"] = os.path.join(out, "resolver.conf")
            servers.append(entry)
        lames = {}
        for zone, z in self.zones.items():
            if z.get("lame"):
                for s in z["servers"]:
                    lames.setdefault(s, []).append(zone)
        for entry in servers:
            if entry["name"] in lames:
                entry["lame_for"] = sorted(lames[entry["name"]])
        manifest = {
            "format": "caa-lab-manifest/1",
            "net": self.net,
            "dir": out,
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "servers": servers,
            "files": {
                "unbound_conf": os.path.join(out, "unbound.conf"),
                "resolver_conf": os.path.join(out, "resolver.conf"),
                "caa_config": os.path.join(out, "caa.json"),
                "trust_anchor": os.path.join(out, "root.key"),
                "faultdns_config": os.path.join(out, "faultdns.json"),
                "query_log": os.path.join(out, "faultdns-queries.log"),
                "zones": os.path.join(out, "zones"),
            },
        }
        views = []
        for v in self.views:
            d = os.path.join(out, "views", v["name"])
            entry = {"name": v["name"], "about": v.get("about", ""),
                     "unbound_conf": os.path.join(d, "unbound.conf"),
                     "caa_config": os.path.join(d, "caa.json")}
            if "zone" in v:
                entry.update(zone=v["zone"], server=v["server"], address=self.addr(v["server"]))
            views.append(entry)
        if views:
            manifest["views"] = views
        with open(os.path.join(out, "lab.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        with open(os.path.join(out, "lab.env"), "w") as f:
            f.write("# generated by labgen.py: source this for the lab's addresses and files\n")
            f.write("CAA_LAB_NET=%s\nCAA_LAB_DIR=%s\n" % (self.net, out))
            for e in servers:
                f.write("CAA_LAB_ADDR_%s=%s\n" % (re.sub(r"[^A-Z0-9]", "_", e["name"].upper()),
                                                  e["address"]))
            for k, v in manifest["files"].items():
                f.write("CAA_LAB_%s=%s\n" % (k.upper(), v))
            for v in views:
                key = "CAA_LAB_VIEW_" + re.sub(r"[^A-Z0-9]", "_", v["name"].upper())
                f.write("%s_UNBOUND_CONF=%s\n%s_CAA_CONFIG=%s\n" % (
                    key, v["unbound_conf"], key, v["caa_config"]))
                if "address" in v:
                    f.write("%s_ADDR=%s\n" % (key, v["address"]))
            if views:
                f.write("CAA_LAB_VIEWS=\"%s\"\n" % " ".join(v["name"] for v in views))


# ---------------------------------------------------------------- probing

def dns_query(qname, qtype, qclass=1, rd=False, ad=False, edns=True, cd=False):
    qid = random.randrange(65536)
    flags = (0x0100 if rd else 0) | (0x0020 if ad else 0) | (0x0010 if cd else 0)
    pkt = struct.pack("!6H", qid, flags, 1, 0, 0, 1 if edns else 0)
    pkt += name_wire(qname) + struct.pack("!HH", qtype, qclass)
    if edns:
        pkt += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return qid, pkt


def ask(addr, qname, qtype, qclass=1, tcp=False, timeout=1.0, rd=False, ad=False, cd=False):
    """One query; returns (rcode, flags, ancount) or None on no answer."""
    qid, pkt = dns_query(qname, qtype, qclass, rd=rd, ad=ad, cd=cd)
    try:
        if tcp:
            with socket.create_connection((addr, 53), timeout=timeout) as s:
                s.sendall(struct.pack("!H", len(pkt)) + pkt)
                buf = b""
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    chunk = s.recv(65536)
                    if not chunk:
                        return None
                    buf += chunk
                resp = buf[2:]
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.sendto(pkt, (addr, 53))
                deadline = time.monotonic() + timeout
                while True:
                    s.settimeout(max(0.01, deadline - time.monotonic()))
                    resp = s.recv(65536)
                    if len(resp) >= 12 and struct.unpack("!H", resp[:2])[0] == qid:
                        break
    except (OSError, socket.timeout):
        return None
    rid, flags, qd, an, ns, ar = struct.unpack("!6H", resp[:12])
    return flags & 0x0F, flags, an


def probe(lab_dir, timeout):
    """Wait until every server answers; print what does not. True when all do."""
    with open(os.path.join(lab_dir, "lab.json")) as f:
        manifest = json.load(f)
    checks = []
    for s in manifest["servers"]:
        if s["kind"] == "nsd" and s.get("probe"):
            for tcp in (False, True):
                checks.append((s, "SOA %s over %s" % (s["probe"], "TCP" if tcp else "UDP"),
                               lambda s=s, tcp=tcp: (r := ask(s["address"], s["probe"], 6,
                                                               tcp=tcp)) and r[0] == 0
                               and r[1] & 0x0400))
        elif s["kind"] == "fault":
            for tcp in (False, True):
                checks.append((s, "health over %s" % ("TCP" if tcp else "UDP"),
                               lambda s=s, tcp=tcp: (r := ask(s["address"], "health.caa-faultdns",
                                                               16, qclass=3, tcp=tcp))
                               and r[0] == 0))
        elif s["kind"] == "resolver" and os.path.exists(s.get("pidfile", "")):
            # End to end: validated (AD) answer for the signed TLD through the root.
            checks.append((s, "validated SOA lab.",
                           lambda s=s: (r := ask(s["address"], "lab.", 6, rd=True, ad=True,
                                                 timeout=2.0)) and r[0] == 0 and r[1] & 0x0020))
    deadline = time.monotonic() + timeout
    pending = checks
    while pending and time.monotonic() < deadline:
        pending = [c for c in pending if not c[2]()]
        if pending:
            time.sleep(0.1)
    for s, what, _ in pending:
        print("labgen: %s (%s) does not answer: %s" % (s["name"], s["address"], what),
              file=sys.stderr)
    return not pending


def bind_problems(addresses):
    """(address, proto, error) for each address:53 that cannot be bound now."""
    out = []
    for addr in addresses:
        for kind, proto in ((socket.SOCK_DGRAM, "udp"), (socket.SOCK_STREAM, "tcp")):
            with socket.socket(socket.AF_INET, kind) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((addr, 53))
                except OSError as e:
                    out.append((addr, proto, e.strerror))
    return out


def portcheck(lab_dir):
    """Can every server's address:53 be bound (UDP and TCP)? Catches a second lab
    on the same net, or a stale server from a lab whose directory is gone."""
    with open(os.path.join(lab_dir, "lab.json")) as f:
        manifest = json.load(f)
    byaddr = {s["address"]: s["name"] for s in manifest["servers"] if s["kind"] != "none"}
    problems = bind_problems(byaddr)
    for addr, proto, err in problems:
        print("labgen: %s (%s:53/%s): %s" % (byaddr[addr], addr, proto, err), file=sys.stderr)
    return not problems


def freenet(cat):
    """The first 127.N (N = 53..254) where every server address of the catalogue is free."""
    rel = [s["addr"] for s in all_servers(cat) if s["kind"] != "none"]
    for n in range(53, 255):
        if not bind_problems(["127.%d.%s" % (n, a) for a in rel]):
            return "127.%d" % n
    raise LabError("no free 127.N range for the lab")


def smoke(cat, lab_dir):
    """Through the lab's validating resolver: every NSD zone validates as its
    catalogue entry says (signed: AD; unsigned: no AD; broken: SERVFAIL, and the
    data with CD). Checks the signing pipeline end to end; True when all pass."""
    with open(os.path.join(lab_dir, "lab.json")) as f:
        manifest = json.load(f)
    res = [s for s in manifest["servers"] if s["kind"] == "resolver"]
    if not res or not read_pid(res[0]["pidfile"]):
        print("labgen: smoke needs the lab's resolver (CAA_LAB_RESOLVER=1)", file=sys.stderr)
        return False
    addr = res[0]["address"]
    nsd = {z for s in manifest["servers"] if s["kind"] == "nsd" for z in s.get("zones", [])}
    ok = True
    for z in all_zones(cat):
        zone, mode = absname(z["zone"]), z.get("dnssec", "unsigned")
        if zone not in nsd:
            continue
        if mode in ("signed", "unsigned"):
            r = ask(addr, zone, 6, rd=True, ad=True, timeout=3)
            good = bool(r) and r[0] == 0 and bool(r[1] & 0x0020) == (mode == "signed")
            what = "SOA %s" % ("validated (AD)" if mode == "signed" else "insecure (no AD)")
        else:
            r = ask(addr, zone, 257, rd=True, ad=True, timeout=3)
            rcd = ask(addr, zone, 257, rd=True, cd=True, timeout=3)
            good = bool(r) and r[0] == 2 and bool(rcd) and rcd[0] == 0
            what = "CAA bogus (SERVFAIL, NOERROR with CD)"
        print("%s %-16s %-18s %s%s" % ("ok  " if good else "FAIL", mode, zone, what,
                                        "" if good else " (got %s%s)" % (
                                            r and "rcode %d flags %04x" % r[:2],
                                            "" if mode in ("signed", "unsigned") else
                                            ", with CD %s" % (rcd and "rcode %d" % rcd[0]))))
        ok = ok and good
    return ok


# ---------------------------------------------------------------- summary and docs

def read_pid(path):
    try:
        with open(path) as f:
            pid = int(f.read().strip() or 0)
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def summary(lab_dir):
    with open(os.path.join(lab_dir, "lab.json")) as f:
        m = json.load(f)
    print("caa-lab: net %s.0.0/16, directory %s" % (m["net"], m["dir"]))
    print("  %-14s %-14s %-9s %-8s %s" % ("server", "address:53", "kind", "pid", "zones / behaviour"))
    for s in m["servers"]:
        pid = read_pid(s["pidfile"]) if s.get("pidfile") else None
        what = " ".join(s.get("zones", []))
        if s["kind"] == "fault":
            rules = ", ".join(
                (r["action"] + ("" if r.get("aa", True) else " no-AA") + (" RA" if r.get("ra") else "") +
                 ("" if r.get("nodata_soa", True) else " NODATA-without-SOA") +
                 "".join(" %s=%s" % (k, r[k]) for k in ("qname", "qtype", "proto", "under")
                         if k in r)) for r in s.get("rules", [])) or "answer"
            extra = "".join(" %s=%s" % (k, s[k]) for k in ("delay_ms", "max_inflight") if k in s)
            what = "[%s%s] %s" % (rules, extra, what)
        if s["kind"] == "fault" and not s.get("zones") and not s.get("rules"):
            what = "[REFUSED: serves no zone]"
        if s.get("lame_for"):
            what = what.rstrip() + " (lame for %s)" % " ".join(s["lame_for"])
        if s["kind"] == "none":
            what = ("nothing listens here " + what.strip()).strip()
        if s["kind"] == "resolver":
            what = "validating, recursing from the lab's root; trust anchor root.key"
        print("  %-14s %-14s %-9s %-8s %s" % (s["name"], s["address"], s["kind"],
                                              pid or "-", what))
    print("files:")
    for k, v in m["files"].items():
        print("  %-16s %s" % (k, v))
    print("  %-16s %s" % ("manifest", os.path.join(m["dir"], "lab.json")))
    print("  %-16s %s" % ("env", os.path.join(m["dir"], "lab.env")))
    if m.get("views"):
        print("perspective views (DIR/views/<view>/unbound.conf and caa.json):")
        for v in m["views"]:
            where = ("%s at %s" % (v["zone"].rstrip("."), v["address"]) if "zone" in v
                     else "the lab as generated")
            print("  %-16s %-28s %s" % (v["name"], where, v["about"]))
        print("  a primary caad and N remote caads, each with its own view: "
              "caa-lab perspectives %s N [--view I=VIEW]" % m["dir"])


def md_escape(s):
    return s.replace("|", "\\|")


def common_suffix(names):
    """The longest label-wise common suffix: ["a.x.lab", "b.y.x.lab"] -> "x.lab"."""
    split = [n.split(".")[::-1] for n in names]
    out = []
    for labels in zip(*split):
        if len(set(labels)) != 1:
            break
        out.append(labels[0])
    return ".".join(out[::-1])


TABLE_BEGIN = "<!-- BEGIN scenario table: generated by deploy/lab/labgen.py table; do not edit -->"
TABLE_END = "<!-- END scenario table -->"


def order_outcome(sc, e):
    """An order's expectation in the table: ("n/m PERMITTED", "problem `type`")."""
    fails = [i for i in sc["order"]
             if (e.get("by_identifier", {}).get(i) or e["each"])["verdict"] != "PERMITTED"]
    verdict = "%d/%d PERMITTED" % (len(sc["order"]) - len(fails), len(sc["order"]))
    return verdict, ("problem `%s`" % e["problem"]["type"].rsplit(":", 1)[-1]
                     if e.get("problem") else "")


def table(cat):
    """The scenario table of docs/lab.md, between its markers."""
    rows = [TABLE_BEGIN,
            "| scenario | identifier | request | verdict | reason | relevant | dnssec | what it shows |",
            "|---|---|---|---|---|---|---|---|"]
    for sc in cat["scenarios"]:
        req = sc.get("request", {})
        reqs = []
        if "account_uri" in req:
            reqs.append("account …/%s" % req["account_uri"].rsplit("/", 1)[-1])
        if "method" in req:
            reqs.append(req["method"])
        if "policy" in req:
            reqs.append("policy `%s`" % req["policy"])
        if sc.get("identifier_type", "dns") != "dns":
            reqs.append("type %s" % sc["identifier_type"])
        e = sc["expect"]
        if "order" in sc:
            ident = "order of %d under `%s`" % (len(sc["order"]), common_suffix(sc["order"]))
            verdict, reason = order_outcome(sc, e)
            rel, dn = "", (e.get("by_identifier", {}).get(sc["order"][0]) or e["each"])["dnssec"]
        else:
            ident = "`%s`" % sc["identifier"]
            verdict, reason, rel, dn = e["verdict"], e["reason"], e["relevant_domain"], e["dnssec"]
        notes = [sc["about"]]
        for vn, ve in sc.get("views", {}).items():
            notes.append("view %s: %s" % (vn, " ".join(order_outcome(sc, ve)) if "order" in sc
                                          else "%s %s" % (ve["verdict"], ve["reason"])))
        if sc.get("room"):
            notes.append("room: %s" % sc["room"]["about"])
        if e.get("cause"):
            notes.append("cause: %s" % e["cause"])
        if e.get("diagnosed"):
            notes.append("diagnosed: %s" % e["diagnosed"]["reason"])
        if e.get("flags"):
            notes.append("flags: %s" % ", ".join(e["flags"]))
        rows.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            sc["name"], md_escape(ident), md_escape(", ".join(reqs)), verdict, reason,
            "`%s`" % rel if rel else "", dn, md_escape("; ".join(notes))))
    rows.append(TABLE_END)
    return "\n".join(rows) + "\n"


def table_check(cat, doc):
    """Is the table in doc (docs/lab.md) the one the catalogue generates?"""
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        print("labgen: %s has no scenario table markers" % doc, file=sys.stderr)
        return False
    have = text[text.index(TABLE_BEGIN):text.index(TABLE_END) + len(TABLE_END)] + "\n"
    if have != table(cat):
        print("labgen: the scenario table in %s is stale: regenerate it with\n"
              "  /usr/bin/python3 deploy/lab/labgen.py table deploy/lab/scenarios.json --update %s"
              % (doc, doc), file=sys.stderr)
        return False
    return True


def table_update(cat, doc):
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    start, end = text.index(TABLE_BEGIN), text.index(TABLE_END) + len(TABLE_END) + 1
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text[:start] + table(cat) + text[end:])


# ---------------------------------------------------------------- perspectives

MAX_REMOTES = 64  # lib/config.c


def perspectives(lab_dir, n, base_port, views):
    """Configs for a primary caad and n remote caads on loopback, from the lab's
    caa.json: DIR/perspectives/primary.json (listening on base_port, every remote
    in perspective.remotes, min_remotes n) and remote-<i>.json (base_port + i, RIRs
    cycling). views: {i: view name}, i = 0 for the primary. Returns the files."""
    try:
        with open(os.path.join(lab_dir, "lab.json")) as f:
            manifest = json.load(f)
        with open(manifest["files"]["caa_config"]) as f:
            base = json.load(f)
    except (OSError, ValueError, KeyError) as e:
        raise LabError("no lab in %s (caa-lab up %s first): %s" % (lab_dir, lab_dir, e))
    known = {v["name"]: v for v in manifest.get("views", [])}
    if not 1 <= n <= MAX_REMOTES:
        raise LabError("N must be 1..%d" % MAX_REMOTES)
    if not (1 <= base_port and base_port + n <= 65535):
        raise LabError("--base-port %d: ports %d..%d are not all valid" %
                       (base_port, base_port, base_port + n))
    for i, v in views.items():
        if not 0 <= i <= n:
            raise LabError("--view %d=%s: there are remotes 1..%d (0: the primary)" % (i, v, n))
        if v not in known:
            raise LabError("--view %d=%s: the lab in %s has views %s" % (
                i, v, lab_dir, ", ".join(sorted(known)) or "none"))
    out = os.path.join(manifest["dir"], "perspectives")
    os.makedirs(out, exist_ok=True)

    def config(i, perspective):
        conf = json.loads(json.dumps(base))
        conf["listen"] = "127.0.0.1:%d" % (base_port + i)
        if i in views:
            conf["dns"]["unbound_conf"] = known[views[i]]["unbound_conf"]
        conf["perspective"] = perspective
        return conf

    remotes = [{"name": "remote-%d" % i, "rir": RIRS[(i - 1) % len(RIRS)],
                "address": "127.0.0.1:%d" % (base_port + i)} for i in range(1, n + 1)]
    files = []
    for i, r in enumerate(remotes, 1):
        files.append((os.path.join(out, "remote-%d.json" % i),
                      config(i, {"name": r["name"], "rir": r["rir"]}), r))
    # An integer minimum: the BR's date schedule is for production, not the lab.
    files.insert(0, (os.path.join(out, "primary.json"),
                     config(0, {"name": "primary", "remotes": remotes, "min_remotes": n,
                                "remote_timeout": "2s"}), None))
    for path, conf, _ in files:
        with open(path, "w") as f:
            json.dump(conf, f, indent=2)
            f.write("\n")
    return files


def perspectives_main(args):
    if len(args) < 2 or not args[1].isdigit():
        raise LabError("usage: perspectives DIR N [--base-port P] [--view I=VIEW]...")
    lab_dir, n, base_port, views = args[0], int(args[1]), 8100, {}
    rest = args[2:]
    while rest:
        opt = rest.pop(0)
        val = rest.pop(0) if rest else None
        if opt == "--base-port" and val and val.isdigit():
            base_port = int(val)
        elif opt == "--view" and val and re.match(r"^\d+=[a-z0-9-]+$", val):
            i, v = val.split("=", 1)
            views[int(i)] = v
        else:
            raise LabError("perspectives: bad option %s %s" % (opt, val or ""))
    files = perspectives(lab_dir, n, base_port, views)
    caad = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                        "server", "caad")
    caad = os.path.normpath(caad) if os.access(caad, os.X_OK) else "caad"
    print("caa-lab: a primary and %d remote perspectives in %s" % (
        n, os.path.dirname(files[0][0])))
    print("  %-10s %-16s %-8s %s" % ("caad", "listen", "rir", "DNS view"))
    for path, conf, r in files:
        p = conf["perspective"]
        view = next((v for i, v in views.items()
                     if os.path.basename(path) == ("primary.json" if i == 0 else
                                                   "remote-%d.json" % i)), "real")
        print("  %-10s %-16s %-8s %s" % (p["name"], conf["listen"], p.get("rir", "-"), view))
    print("start the remotes, then the primary (each in the foreground, or as here in the "
          "background):")
    for path, _, r in files[1:]:
        print("  %s --config %s &" % (caad, path))
    print("  %s --config %s &" % (caad, files[0][0]))
    print("then ask the primary, e.g.:")
    print("  caa check --server %s permit.mpic.lab" % files[0][1]["listen"])


# ---------------------------------------------------------------- main

def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    try:
        if cmd == "check" and len(argv) == 3:
            cat = load_catalogue(argv[2])
            errors = validate(cat)
            for e in errors:
                print("labgen: %s" % e, file=sys.stderr)
            if not errors:
                print("labgen: %s: %d scenarios, %d zones, %d servers OK" % (
                    argv[2], len(cat["scenarios"]), len(all_zones(cat)), len(all_servers(cat))))
            return 1 if errors else 0
        if cmd == "generate" and len(argv) == 5:
            cat = load_catalogue(argv[2])
            errors = validate(cat)
            if errors:
                for e in errors:
                    print("labgen: %s" % e, file=sys.stderr)
                return 1
            Lab(cat, argv[3], argv[4]).generate()
            return 0
        if cmd == "probe" and len(argv) in (3, 5):
            timeout = float(argv[4]) if len(argv) == 5 and argv[3] == "--timeout" else 10.0
            return 0 if probe(argv[2], timeout) else 1
        if cmd == "freenet" and len(argv) == 3:
            print(freenet(load_catalogue(argv[2])))
            return 0
        if cmd == "portcheck" and len(argv) == 3:
            return 0 if portcheck(argv[2]) else 1
        if cmd == "smoke" and len(argv) == 4:
            return 0 if smoke(load_catalogue(argv[2]), argv[3]) else 1
        if cmd == "perspectives" and len(argv) >= 4:
            perspectives_main(argv[2:])
            return 0
        if cmd == "summary" and len(argv) == 3:
            summary(argv[2])
            return 0
        if cmd == "table" and len(argv) == 3:
            sys.stdout.write(table(load_catalogue(argv[2])))
            return 0
        if cmd == "table" and len(argv) == 5 and argv[3] == "--check":
            return 0 if table_check(load_catalogue(argv[2]), argv[4]) else 1
        if cmd == "table" and len(argv) == 5 and argv[3] == "--update":
            table_update(load_catalogue(argv[2]), argv[4])
            return 0
    except LabError as e:
        print("labgen: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
