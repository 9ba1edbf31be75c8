#!/usr/bin/env python3
"""audit_schema.py SCHEMA FILE... — every line of every FILE (caad's stderr
log, its audit file) is one JSON object valid against SCHEMA
(docs/audit.schema.json). Exit 0, or 1 naming each line that is not."""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    bad = n = 0
    seen = {}
    for path in sys.argv[2:]:
        with open(path) as f:
            for no, line in enumerate(f, 1):
                n += 1
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    print(f"{path}:{no}: not JSON ({e}): {line[:200]}")
                    bad += 1
                    continue
                errs = list(v.iter_errors(obj))
                for e in errs:
                    print(f"{path}:{no}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
                bad += bool(errs)
                if isinstance(obj, dict):
                    seen[obj.get("msg")] = seen.get(obj.get("msg"), 0) + 1
    print(f"{n} lines, {bad} not valid; by msg: {json.dumps(seen, sort_keys=True)}")
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
