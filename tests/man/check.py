#!/usr/bin/env python3
"""tests/man/check.py — the man pages (docs/man) against the code.

  check.py SOURCE_DIR [--caa CAA]  check the pages
  check.py SOURCE_DIR --self-test  check that the checks catch what they should

What the code accepts is read from the source, never listed here:
  caa(1)        every long option of the getopt_long tables in client/*.c, every
                short option of their option strings, every "-x"/"--x" that a
                strcmp() compares argv with, and every command of main.c's table;
  caad(8)       the same for server/main.c;
  caad.json(5)  every key of the key tables in lib/config.c, with its path.
A page documents an option when an .It line names it (.It Fl -config), a
command with .It Cm, a config key with its full path (.It Ic dns.timeout).
Each page must also render without a warning from mandoc -Tlint and, when
groff is installed, from groff -ww. With --caa, the example of caad.json(5)
must be a config the built caa accepts.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Where each key table of lib/config.c sits in the file: (function, table) -> path prefix.
# A new table fails the check until it is added here.
PREFIXES = {
    ("parse_top", "keys"): "",
    ("parse_tls", "server_keys"): "tls.",
    ("parse_tls", "remote_keys"): "perspective.remotes[].tls.",
    ("parse_dns", "keys"): "dns.",
    ("parse_policy", "keys"): "policy.",
    ("parse_cache", "keys"): "cache.",
    ("parse_cache_redis", "keys"): "cache.redis.",
    ("parse_perspective", "keys"): "perspective.",
    ("parse_remote", "keys"): "perspective.remotes[].",
    ("parse_audit", "keys"): "audit.",
    ("parse_http", "keys"): "http.",
    ("parse_webhook", "keys"): "webhooks[].",
}

PAGES = ("caa.1", "caad.8", "caad.json.5")


def strip_comments(c):
    c = re.sub(r"/\*.*?\*/", " ", c, flags=re.S)
    return re.sub(r"//[^\n]*", " ", c)


def options_in(c):
    """The options one C file accepts: getopt tables, option strings, strcmp on argv."""
    c = strip_comments(c)
    opts = set()
    for table in re.finditer(r"struct\s+option\s+\w+\s*\[\s*\]\s*=\s*\{(.*?)\};", c, re.S):
        for name in re.finditer(r'\{\s*"([^"]+)"\s*,\s*(?:no|required|optional)_argument',
                                table.group(1)):
            opts.add("--" + name.group(1))
    for call in re.finditer(r'\bgetopt(?:_long(?:_only)?)?\s*\([^,]+,[^,]+,\s*"([^"]*)"', c):
        for ch in call.group(1).replace(":", "").lstrip("+-"):
            opts.add("-" + ch)
    for lit in re.finditer(r'\bstrn?cmp\s*\([^,()]+,\s*"(-[^"]*)"', c):
        opts.add(lit.group(1))
    return opts


def commands_in(c):
    """caa's commands: the {"name", cli_fn, ...} rows of client/main.c."""
    return set(re.findall(r'\{\s*"([a-z][a-z-]*)"\s*,\s*cli_\w+\s*,', strip_comments(c)))


def config_keys(c, errors):
    """Every key of lib/config.c's key tables, with its full path."""
    c = strip_comments(c)
    keys = set()
    funcs = [(m.start(), m.group(1)) for m in re.finditer(r"^static\s+\w+\s+(\w+)\s*\(", c, re.M)]
    for t in re.finditer(r"static\s+const\s+char\s*\*\s*const\s+(\w*keys)\s*\[\s*\]\s*=\s*\{(.*?)\};",
                         c, re.S):
        func = max((f for f in funcs if f[0] < t.start()), default=(0, "?"))[1]
        prefix = PREFIXES.get((func, t.group(1)))
        if prefix is None:
            errors.append("lib/config.c: key table %s in %s(): its path is unknown; add it to "
                          "PREFIXES in tests/man/check.py" % (t.group(1), func))
            continue
        for k in re.findall(r'"([^"]+)"', t.group(2)):
            keys.add(prefix + k)
    return keys


def item_heads(page, macro):
    """The arguments of `macro` on the page's .It lines: .It Fl h , Fl -help -> {-h, --help}."""
    found = set()
    for line in page.splitlines():
        if not line.startswith(".It "):
            continue
        words = line.split()
        for i, w in enumerate(words[:-1]):
            if w == macro:
                arg = words[i + 1]
                found.add("-" + arg if macro == "Fl" else arg)
    return found


def lint(name, text):
    """Warnings of mandoc -Tlint (and groff -ww) on one page."""
    errors = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        mandoc = shutil.which("mandoc")
        if mandoc is None:
            return ["mandoc is not installed (deploy/packages.txt lists it)"]
        r = subprocess.run([mandoc, "-Tlint", "-W", "warning", path],
                           capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or out:
            errors.append("%s: mandoc -Tlint: %s" % (name, out.replace(path, name) or
                                                      "exit %d" % r.returncode))
        groff = shutil.which("groff")
        if groff is not None:
            r = subprocess.run([groff, "-mandoc", "-ww", "-z", "-Tutf8", path],
                               capture_output=True, text=True)
            if r.returncode != 0 or r.stderr.strip():
                errors.append("%s: groff -ww: %s" % (name, r.stderr.strip().replace(path, name)))
    return errors


def check(src, pages):
    """src: {relative path: C text}; pages: {page name: text}. Returns the errors."""
    errors = []
    caa_opts, caa_cmds, caad_opts = set(), set(), set()
    for path, text in src.items():
        if path.startswith("client/"):
            caa_opts |= options_in(text)
            caa_cmds |= commands_in(text)
        elif path == "server/main.c":
            caad_opts |= options_in(text)
    keys = config_keys(src["lib/config.c"], errors)
    # an extractor that finds nothing is broken, not satisfied
    for what, found in (("caa options", caa_opts), ("caa commands", caa_cmds),
                        ("caad options", caad_opts), ("config keys", keys)):
        if not found:
            errors.append("found no %s in the source: the extraction is broken" % what)

    def need(page, macro, wanted, what):
        have = item_heads(pages[page], macro)
        for w in sorted(wanted - have):
            errors.append("%s: %s %s is accepted by the code but has no .It %s item"
                          % (page, what, w, macro))

    need("caa.1", "Fl", caa_opts, "option")
    need("caa.1", "Cm", caa_cmds, "command")
    need("caad.8", "Fl", caad_opts, "option")
    need("caad.json.5", "Ic", keys, "config key")
    for name in PAGES:
        errors += lint(name, pages[name])
    return errors


def load(root):
    src = {}
    for d in ("client", "server"):
        for f in sorted(os.listdir(os.path.join(root, d))):
            if f.endswith(".c"):
                with open(os.path.join(root, d, f)) as fh:
                    src[d + "/" + f] = fh.read()
    with open(os.path.join(root, "lib", "config.c")) as fh:
        src["lib/config.c"] = fh.read()
    pages = {}
    for p in PAGES:
        with open(os.path.join(root, "docs", "man", p)) as fh:
            pages[p] = fh.read()
    return src, pages


def example_config(root, page, caa):
    """The JSON of caad.json(5)'s EXAMPLES section, loaded by libcaa's parser
    through caa evaluate (the parser opens no file the config names)."""
    m = re.search(r"^\.Sh EXAMPLES\n.*?^\.Bd -literal[^\n]*\n(.*?)^\.Ed", page, re.S | re.M)
    if m is None:
        return ["caad.json.5: no .Bd -literal example under EXAMPLES"]
    text = m.group(1).replace("\\e", "\\")
    try:
        json.loads(text)
    except ValueError as e:
        return ["caad.json.5: the example is not JSON: %s" % e]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write(text)
        f.flush()
        r = subprocess.run([caa, "evaluate", "--config", f.name, "--records",
                            os.path.join(root, "deploy", "examples", "permitted.records"),
                            "www.shop.example"], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        return ["caad.json.5: caa does not accept the example config (exit %d): %s"
                % (r.returncode, r.stderr.strip())]
    return []


def self_test(src, pages):
    """Each mutation must make check() report the expected text."""
    def drop_item(page, head):
        def f(s, p):
            lines = pages[page].splitlines(True)
            assert any(l.startswith(head) for l in lines), head
            p = dict(p)
            p[page] = "".join(l for l in lines if not l.startswith(head))
            return s, p
        return f

    def add_src(path, anchor, extra):
        def f(s, p):
            assert anchor in s[path], anchor
            s = dict(s)
            s[path] = s[path].replace(anchor, anchor + extra, 1)
            return s, p
        return f

    def bad_macro(page):
        def f(s, p):
            p = dict(p)
            p[page] = p[page].replace(".Sh DESCRIPTION", ".Sh DESCRIPTION\n.Xx bogus", 1)
            return s, p
        return f

    cases = [
        ("caa.1 without --tls-key", drop_item("caa.1", ".It Fl -tls-key"), "option --tls-key"),
        ("caa.1 without -h", drop_item("caa.1", ".It Fl h"), "option -h "),
        ("caa.1 without evaluate", drop_item("caa.1", ".It Cm evaluate"), "command evaluate"),
        ("a new caa option", add_src("client/check.c", "static const struct option options[] = {",
                                     '\n    {"frobnicate", no_argument, NULL, 1},'),
         "option --frobnicate"),
        ("a new short option", add_src("client/evaluate.c", 'getopt_long(argc, argv, "h', "q"),
         "option -q "),
        ("caad.8 without --check-config", drop_item("caad.8", ".It Fl -check-config"),
         "option --check-config"),
        ("a new caad option", add_src("server/main.c", "int main(int argc, char **argv)\n{",
                                      '\n\tif (strcmp(argv[1], "--foreground") == 0) return 0;'),
         "option --foreground"),
        ("caad.json.5 without dns.retries", drop_item("caad.json.5", ".It Ic dns.retries"),
         "config key dns.retries"),
        ("caad.json.5 without a remote's tls.ca",
         drop_item("caad.json.5", ".It Ic perspective.remotes[].tls.ca"),
         "config key perspective.remotes[].tls.ca"),
        ("a new dns key", add_src("lib/config.c", '"max_per_zone", "max_outstanding",', ' "frob",'),
         "config key dns.frob"),
        ("a key table nobody placed",
         add_src("lib/config.c", "static int parse_top(", "void);\nstatic int parse_new(void)\n{\n"
                 "\tstatic const char *const keys[] = {\"x\", NULL};\n}\nstatic int parse_top("),
         "key table keys in parse_new()"),
        ("a page that does not lint", bad_macro("caad.8"), "caad.8: mandoc -Tlint"),
    ]
    failed = 0
    base = check(src, pages)
    if base:
        print("self-test: the unchanged tree does not pass:\n  " + "\n  ".join(base))
        return 1
    for what, mutate, expect in cases:
        errs = check(*mutate(src, pages))
        if any(expect in e for e in errs):
            print("ok    %s: %s" % (what, next(e for e in errs if expect in e)))
        else:
            failed += 1
            print("FAIL  %s: no error mentions %r; got %r" % (what, expect, errs))
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    if not (len(args) == 1 or (len(args) == 2 and args[1] == "--self-test") or
            (len(args) == 3 and args[1] == "--caa")):
        print("usage: check.py SOURCE_DIR [--caa CAA | --self-test]", file=sys.stderr)
        return 2
    src, pages = load(args[0])
    if len(args) == 2:
        return self_test(src, pages)
    errors = check(src, pages)
    if len(args) == 3:
        errors += example_config(args[0], pages["caad.json.5"], args[2])
    for e in errors:
        print(e)
    if not errors:
        print("man pages: every option of caa and caad and every config key documented; "
              "pages lint clean")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
