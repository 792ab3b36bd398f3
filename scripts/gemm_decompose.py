#!/usr/bin/env python3
"""The table of scripts/gemm_decompose.sh: per (N, K, M), microseconds of the same tile with block
scales, unit-factor promotion and fast accumulation, cuBLASLt's fast-accumulation kernel and
DeepGEMM; then geometric means of the ratios by M.

  scripts/gemm_decompose.py OUT_DIR"""

import collections
import json
import math
import os
import sys

RUNS = ("block", "unit", "fast", "block2", "cublaslt_fast")


def gmean(values):
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def load(out):
    us = collections.defaultdict(dict)
    for run in RUNS:
        path = os.path.join(out, f"{run}.jsonl")
        if not os.path.exists(path):
            continue
        for line in open(path):
            r = json.loads(line)
            p = r["params"]
            if r.get("status") == "ok":
                us[(int(p["n"]), int(p["k"]), int(p["m"]))][run] = r["metrics"]["us_median"]
    peers = os.path.join(out, "peers.jsonl")
    if os.path.exists(peers):
        for line in open(peers):
            r = json.loads(line)
            if r.get("deepgemm_us"):
                us[(r["N"], r["K"], r["M"])]["deepgemm"] = r["deepgemm_us"]
    return us


def main(out):
    us = load(out)
    cols = RUNS + ("deepgemm",)
    ratios = (("unit/block", "unit", "block"), ("fast/block", "fast", "block"), ("block2/block", "block2", "block"),
              ("DG/block", "deepgemm", "block"), ("DG/fast", "deepgemm", "fast"), ("LT/fast", "cublaslt_fast", "fast"))
    print("time (us) of each run; ratios are time over time (< 1: the first is faster)")
    print(f"{'N':>6} {'K':>6} {'M':>5} | " + " ".join(f"{c[:8]:>8}" for c in cols) + " | " +
          " ".join(f"{r[0]:>12}" for r in ratios))
    by_m = collections.defaultdict(lambda: collections.defaultdict(list))
    for key in sorted(us, key=lambda k: (k[2], -k[1], k[0])):
        row = us[key]
        line = f"{key[0]:>6} {key[1]:>6} {key[2]:>5} | " + " ".join(
            f"{row[c]:8.2f}" if c in row else f"{'-':>8}" for c in cols) + " |"
        for name, a, b in ratios:
            if a in row and b in row:
                by_m[key[2]][name].append(row[a] / row[b])
                line += f" {row[a] / row[b]:12.3f}"
            else:
                line += f" {'-':>12}"
        print(line)
    print("\ngeometric means by M:")
    for m in sorted(by_m):
        print(f"  M={m:>5}: " + ", ".join(f"{name} {gmean(v):.3f}" for name, v in by_m[m].items()))


if __name__ == "__main__":
    main(sys.argv[1])
