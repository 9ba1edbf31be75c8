#!/usr/bin/env python3
"""The Grafana dashboard (deploy/grafana/caad.json) against docs/metrics.md.

Loads the dashboard as JSON, takes every PromQL expression of every panel
(and the label_values() of its variables), and checks that each metric name
in it is a family listed in docs/metrics.md (a histogram's _bucket, _sum and
_count are its family's). --self-test: the check catches a name that is not
documented and a panel without a query.

usage: check.py SOURCE_DIR [--self-test]
"""
import copy
import json
import re
import sys

SUFFIXES = ("_bucket", "_sum", "_count")


def documented(source):
    with open(f"{source}/docs/metrics.md", encoding="utf-8") as f:
        return set(re.findall(r"^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \|", f.read(), re.M))


def metric_names(expr):
    """The metric names a PromQL expression reads."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values)
    s = re.sub(r"\{[^}]*\}", "", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)  # ranges
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", s)
    s = re.sub(r"\b(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\b", "", s)  # numbers
    names = []
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        rest = s[m.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation
        if m.group(0) in ("and", "or", "unless", "bool", "offset", "inf", "nan"):
            continue
        names.append(m.group(0))
    return names


def queries(dash):
    """(where, expr) for every query of the dashboard."""
    out = []
    for p in dash.get("panels", []):
        targets = p.get("targets") or []
        if not targets:
            out.append((f"panel {p.get('title')!r}", None))
        for t in targets:
            out.append((f"panel {p.get('title')!r} {t.get('refId')}", t.get("expr")))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and isinstance(q, str):
            m = re.match(r"\s*label_values\(\s*([^,)]+)", q)
            out.append((f"variable {v.get('name')}", m.group(1) if m else q))
    return out


def check(dash, docs):
    errors, seen = [], set()
    for where, expr in queries(dash):
        if not expr:
            errors.append(f"{where}: no PromQL expression")
            continue
        names = metric_names(expr)
        if not names:
            errors.append(f"{where}: no metric name in {expr!r}")
        for n in names:
            base = next((n[: -len(s)] for s in SUFFIXES if n.endswith(s)), None)
            if n in docs or (base and base in docs):
                seen.add(base if base in docs else n)
            else:
                errors.append(f"{where}: {n} is not in docs/metrics.md")
    return errors, seen


def main():
    source = sys.argv[1]
    with open(f"{source}/deploy/grafana/caad.json", encoding="utf-8") as f:
        dash = json.load(f)
    docs = documented(source)
    if len(docs) < 20:
        print(f"docs/metrics.md: only {len(docs)} metrics found")
        return 1
    if "--self-test" in sys.argv[2:]:
        bad = copy.deepcopy(dash)
        bad["panels"][0]["targets"][0]["expr"] = "sum(rate(caad_no_such_metric_total[5m]))"
        bad["panels"].append({"title": "empty", "targets": []})
        errors, _ = check(bad, docs)
        ok = any("caad_no_such_metric_total" in e for e in errors) and any(
            "no PromQL" in e for e in errors)
        print("self-test:", "PASS" if ok else f"FAIL ({errors})")
        return 0 if ok else 1
    errors, seen = check(dash, docs)
    for e in errors:
        print(e)
    print(f"{len(queries(dash))} queries, {len(seen)} metric families, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
