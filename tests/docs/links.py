#!/usr/bin/env python3
"""links.py ROOT — every relative link in README.md and docs/*.md reaches a
file of the repository, and every #fragment names a heading (GitHub's slug)
or an <a id="..."> of the page it points into. Exit 0, or 1 listing each
broken link as FILE:LINE: LINK: why. --self-test: the checks catch a missing
file and a missing anchor."""
import os
import re
import sys
import tempfile

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
ANCHOR = re.compile(r"<a\s+id=\"([^\"]+)\"")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(text):
    """GitHub's heading anchor: lowercase, markup and punctuation dropped,
    spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [x](y) -> x
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, counts, fenced = set(), {}, False
        with open(path, encoding="utf-8") as f:
            for line in f:
                if FENCE.match(line):
                    fenced = not fenced
                    continue
                found.update(ANCHOR.findall(line))
                m = None if fenced else HEADING.match(line)
                if m:
                    s = slug(m.group(1))
                    n = counts.get(s, 0)
                    counts[s] = n + 1
                    found.add(s if n == 0 else "%s-%d" % (s, n))
        cache[path] = found
    return cache[path]


def pages(root):
    yield os.path.join(root, "README.md")
    for dirpath, _, files in os.walk(os.path.join(root, "docs")):
        for name in sorted(files):
            if name.endswith(".md"):
                yield os.path.join(dirpath, name)


def check(root):
    errors = []
    for page in pages(root):
        fenced = False
        with open(page, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                if FENCE.match(line):
                    fenced = not fenced
                if fenced:
                    continue
                for target in LINK.findall(line):
                    if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                        continue  # https:, mailto:
                    where = "%s:%d: %s" % (os.path.relpath(page, root), no, target)
                    path, _, frag = target.partition("#")
                    dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) \
                        if path else page
                    if not os.path.realpath(dest).startswith(os.path.realpath(root) + os.sep):
                        errors.append(where + ": points outside the repository")
                    elif not os.path.exists(dest):
                        errors.append(where + ": no such file")
                    elif frag and dest.endswith(".md") and frag not in anchors(dest):
                        errors.append(where + ": no heading or <a id> \"%s\" there" % frag)
    return errors


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "docs"))
        with open(os.path.join(d, "README.md"), "w") as f:
            f.write("[a](docs/a.md#the-b-c) [b](docs/a.md#x) [c](docs/nope.md) [d](../x.md)\n")
        with open(os.path.join(d, "docs", "a.md"), "w") as f:
            f.write("# The `b` (c)\n<a id=\"x\"></a>\n")
        errs = check(d)
        want = ["no such file", "points outside"]
        ok = len(errs) == 2 and all(any(w in e for e in errs) for w in want)
        with open(os.path.join(d, "README.md"), "a") as f:
            f.write("[e](docs/a.md#missing)\n")
        errs2 = check(d)
        ok = ok and len(errs2) == 3 and any("missing" in e for e in errs2)
        print("self-test:", "ok" if ok else "FAILED: %r %r" % (errs, errs2))
        return 0 if ok else 1


def main():
    if sys.argv[1:2] == ["--self-test"]:
        return self_test()
    errors = check(sys.argv[1])
    for e in errors:
        print(e)
    print("%d broken link(s)" % len(errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
