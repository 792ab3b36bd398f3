#!/usr/bin/env python3
"""Issue 6's search check: does an exhaustive search beat the tuner's choice by more than 3%?

Reads the journal that `fp8kit tune --exhaustive --shapes N,K --batch-size M --save-path EXH` left
(every valid config timed in one process) and the tuner's file for (N, K) in TUNED, and compares,
inside the exhaustive run, the time of the fastest config with the time of the tuner's choice.
Usage: tune_exhaustive_check.py TUNED EXH N K M   (exit 1 when the gap is over --limit)
"""
import argparse
import glob
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tuned")
    ap.add_argument("exhaustive")
    ap.add_argument("n", type=int)
    ap.add_argument("k", type=int)
    ap.add_argument("m", type=int)
    ap.add_argument("--limit", type=float, default=0.03)
    a = ap.parse_args()

    pattern = f"fp8kit_w8a8_block128x128_N={a.n},K={a.k},out=*.json"
    tuned_files = glob.glob(os.path.join(a.tuned, pattern))
    journals = glob.glob(os.path.join(a.exhaustive, ".fp8kit-tune-state", pattern[:-5] + ".jsonl"))
    if len(tuned_files) != 1 or len(journals) != 1:
        sys.exit(f"want one tuned file and one exhaustive journal for N={a.n} K={a.k}: {tuned_files} {journals}")
    choice = json.load(open(tuned_files[0]))[str(a.m)]["kernel_name"]

    times, failed = {}, 0
    for line in open(journals[0]):
        e = json.loads(line)
        if e.get("m") != a.m or e["kind"] not in ("candidate", "default"):
            continue
        if "us" in e:
            times[e["kernel_name"]] = e["us"]
        else:
            failed += 1
    if choice not in times:
        sys.exit(f"the tuner's choice {choice} was not measured by the exhaustive run")
    ranked = sorted(times.items(), key=lambda kv: kv[1])
    best_name, best_us = ranked[0]
    gap = times[choice] / best_us - 1
    rank = [name for name, _ in ranked].index(choice) + 1
    flops = 2.0 * a.m * a.n * a.k
    print(f"N={a.n} K={a.k} M={a.m}: {len(times)} configs timed ({failed} failed); "
          f"best {best_name} {best_us:.2f} us ({flops / best_us / 1e6:.1f} TFLOP/s); "
          f"tuner's {choice} {times[choice]:.2f} us, rank {rank}, {100 * gap:+.1f}%")
    for name, us in ranked[:5]:
        print(f"    {us:9.2f} us  {name}")
    return 0 if gap <= a.limit else 1


if __name__ == "__main__":
    sys.exit(main())
