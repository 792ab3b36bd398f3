#!/usr/bin/env python3
"""The tuned TFLOP/s of a folder of `fp8kit tune` files as a Markdown table for docs/PERF.md:
one row per (N, K), one column per batch size M, each cell the best config's TFLOP/s and its
speedup over the default heuristic; the last column the time the tuner spent on that (N, K).
Usage: tuned_table.py DIR"""
import glob
import json
import math
import os
import sys


def main():
    files = sorted(glob.glob(os.path.join(sys.argv[1], "fp8kit_w8a8_block128x128_*.json")))
    if not files:
        sys.exit(f"no tuned files in {sys.argv[1]}")
    rows = [json.load(open(f))["metadata"] for f in files]
    ms = sorted({int(m) for r in rows for m in r["per_batch_size"]})
    print("| N × K | " + " | ".join(f"M={m}" for m in ms) + " | tuned in |")
    print("|---|" + "---:|" * len(ms) + "---:|")
    logs, total_s = [], 0.0
    for r in rows:
        cells = []
        for m in ms:
            b = r["per_batch_size"].get(str(m))
            if b is None:
                cells.append("–")
                continue
            cells.append(f"{b['best_tflops']:.0f} (×{b['speedup']:.2f})")
            logs.append(math.log(b["speedup"]))
        total_s += r["time_spent_s"]
        print(f"| {r['n']} × {r['k']} | " + " | ".join(cells) + f" | {r['time_spent_s']:.0f} s |")
    print(f"\n{len(logs)} (N, K, M); tuned over the default heuristic: geomean ×{math.exp(sum(logs) / len(logs)):.3f}, "
          f"max ×{math.exp(max(logs)):.2f}; {total_s:.0f} s of search summed over the files")


if __name__ == "__main__":
    main()
