#!/usr/bin/env python3
"""Reads pending call 5's benches (scripts/candidate_variants.py's folders, each benched per M with
`bench gemm --out DIR/<variant>/m<M>`, the base twice as base and base_again; before session 32
NVIDIA_H200 and NVIDIA_H200_again) and
DeepGEMM's peers_gemm.py lines (DIR/dg_m<M>.jsonl), and prints per cell the TFLOP/s of the base,
of each candidate and of DeepGEMM, the best candidate over the mean of the two base runs, and the
ratios to DeepGEMM before and after taking the best (only where it beats the base by more than the
base's own run-to-run spread).

  scripts/candidate_report.py DIR N,K,M=CANDIDATES ...   (the same cell arguments as candidate_variants.py)

With --merge VARIANTS INTO first, each taken candidate's entry is also copied from its config folder
(VARIANTS/v<i>, candidate_variants.py's output) into the config files of INTO (a copy of the base)."""

import glob
import json
import math
import os
import sys

from candidate_variants import config_file
from force_gemm_configs import entry, write_json


def tflops(folder: str) -> dict:
    r = {}
    for path in glob.glob(os.path.join(folder, "m*", "gemm_results.jsonl")):
        for line in open(path):
            d = json.loads(line)
            q = d["params"]
            if d["status"] == "ok" and q["backend"] == "fp8kit":
                r[(int(q["n"]), int(q["k"]), int(q["m"]))] = (d["metrics"]["tflops_median"], q["kernel"])
    return r


def merge(variants: str, into: str, key: tuple, variant: str) -> None:
    n, k, m = key
    dst = config_file(into, n, k)
    configs = json.load(open(dst))
    configs[str(m)] = entry(json.load(open(config_file(os.path.join(variants, variant), n, k)))[str(m)])
    write_json(dst, configs)


def main() -> None:
    args = sys.argv[1:]
    target = None
    if args[:1] == ["--merge"]:
        target, args = args[1:3], args[3:]
    d, *cells = args
    keys = [tuple(int(v) for v in c.split("=", 1)[0].split(",")) for c in cells]
    tag = "base" if os.path.isdir(os.path.join(d, "base")) else "NVIDIA_H200"
    base, again = tflops(os.path.join(d, tag)), tflops(os.path.join(d, tag + "_again"))
    variants = sorted((p for p in glob.glob(os.path.join(d, "v*")) if os.path.isdir(p)), key=lambda p: int(os.path.basename(p)[1:]))
    runs = {os.path.basename(v): tflops(v) for v in variants}
    dg = {}
    for path in glob.glob(os.path.join(d, "dg_m*.jsonl")):
        for line in open(path):
            x = json.loads(line)
            if x.get("deepgemm_tflops"):
                dg[(x["N"], x["K"], x["M"])] = x["deepgemm_tflops"]
    before, after = [], []
    for key in keys:
        if key not in base or key not in again:
            print(key, "base missing")
            continue
        b = (base[key][0] + again[key][0]) / 2
        spread = abs(base[key][0] - again[key][0]) / b
        line = [f"{key[0]:6d} {key[1]:6d} {key[2]:5d} base {base[key][0]:7.1f}/{again[key][0]:7.1f}"]
        best, best_name, best_variant = b, base[key][1], None
        for name, r in runs.items():
            if key in r and r[key][1] != base[key][1]:
                line.append(f"{name} {r[key][0]:7.1f} ({r[key][0] / b:.3f})")
                if r[key][0] > best and r[key][0] / b - 1 > max(spread, 0.01):
                    best, best_name, best_variant = r[key][0], r[key][1], name
        g = dg.get(key)
        if g:
            before.append(b / g)
            after.append(best / g)
            line.append(f"DG {g:7.1f}: {b / g:.3f} -> {best / g:.3f}")
        print("  ".join(line))
        if best_variant:
            print(f"    take {best_name}")
            if target:
                merge(*target, key, best_variant)
    if not before:
        return  # no DeepGEMM lines (the cold decode call)
    geo = lambda v: math.exp(sum(map(math.log, v)) / len(v))
    print(f"fp8kit / DeepGEMM over {len(before)} cells: {geo(before):.3f} (min {min(before):.3f}) -> "
          f"{geo(after):.3f} (min {min(after):.3f})")


if __name__ == "__main__":
    main()
