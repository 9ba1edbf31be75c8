#!/usr/bin/env python3
"""tests/style/compdb.py SOURCE_DIR BUILD_DIR OUT_DIR — write OUT_DIR/compile_commands.json:
the build's compilation database cut to the project's own C files in lib/ server/ client/
proto/ (no generated protobuf code, tests, bench or lab), for cppcheck and clang-tidy."""
import json
import os
import sys

src, build, out = (os.path.realpath(a) for a in sys.argv[1:4])
with open(os.path.join(build, "compile_commands.json")) as f:
    db = json.load(f)
keep = []
for e in db:
    path = os.path.realpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(path, src)
    if rel.split(os.sep)[0] in ("lib", "server", "client", "proto") and os.path.exists(path):
        keep.append(e)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "compile_commands.json"), "w") as f:
    json.dump(keep, f, indent=1)
print(f"{len(keep)} translation units")
