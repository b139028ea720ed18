#!/usr/bin/env bash
# Per-directory line and branch coverage of src/transports/* and src/protocols/*
# (and the rest of src/, for reference) from a merged profile.
#   covsummary.sh LLVM_COV PROFDATA TREE BINARY...
set -euo pipefail
cov=$1 prof=$2 tree=$3; shift 3
objs=("$1"); shift
for b in "$@"; do objs+=(-object "$b"); done
"$cov" export -summary-only -instr-profile "$prof" "${objs[@]}" "$tree/src" \
    > "$(dirname "$prof")/summary.json"
python3 - "$(dirname "$prof")/summary.json" "$tree" <<'PY'
import json, os, sys
from collections import defaultdict
data = json.load(open(sys.argv[1]))
tree = os.path.realpath(sys.argv[2])
agg = defaultdict(lambda: [0, 0, 0, 0])
for f in data["data"][0]["files"]:
    p = os.path.relpath(os.path.realpath(f["filename"]), tree)
    parts = p.split("/")
    if parts[0] != "src":
        continue
    if len(parts) < 3:
        continue
    if len(parts) > 3 and parts[1] in ("transports", "protocols"):
        d = "/".join(parts[:3])
        top = "/".join(parts[:2]) + " (all)"
    else:
        d = "/".join(parts[:2]) if len(parts) > 2 else "src"
        top = None
    s = f["summary"]
    for key in [d] + ([top] if top else []):
        a = agg[key]
        a[0] += s["lines"]["covered"]; a[1] += s["lines"]["count"]
        a[2] += s["branches"]["covered"]; a[3] += s["branches"]["count"]
pct = lambda c, n: 100.0 * c / n if n else 0.0
print("%-32s %15s %8s %17s %8s" % ("directory", "lines", "line %", "branches", "branch %"))
for k in sorted(agg):
    a = agg[k]
    print("%-32s %7d/%-7d %7.1f%% %8d/%-8d %7.1f%%" % (k, a[0], a[1], pct(a[0], a[1]), a[2], a[3], pct(a[2], a[3])))
PY
