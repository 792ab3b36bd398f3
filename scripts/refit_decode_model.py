#!/usr/bin/env python3
"""Refits the decode model (decode_model_us in src/core/gemm_cost_model.cpp: the heuristic's and
the tuner's order up to kDecodeMaxM) to a tuner journal, by least squares on relative error:

  us = waves x K blocks per split x (a + b x block_n / 64) + [workspace split] (c + d x partial MB)
       + [split cluster] f + e

partial MB = M x N x split x 8 bytes / 1e6 (the fp32 slabs written and read). Rows: every measured
candidate at M <= 64 on the rows the heuristic uses (16 at M <= 16, 32 at M <= 32, 64 above), one
consumer warpgroup, no multicast cluster, >= 4 stages, widths 16/32/64/128; split clusters only
where the heuristic would take them (split 2, or 3-4 on at most 85% of the SMs: larger or more
clusters than fit at once run a second wave, which the model does not describe). Without split
clusters in the journal (tunes before 2026-12-05) f is 0. Prints the coefficients, the fit's
relative rms error, how the model's favourite measured tile of each search compares with the
search's best (by M), and the measured cost of rows past M (32 against 16 rows, 64 against 32).
Usage: refit_decode_model.py JOURNAL_DIR   (<save>/.fp8kit-tune-state, or docs/data/*.tgz unpacked)
Needs numpy. Copy the coefficients into decode_model_us by hand and A/B the heuristic on a GPU:
the model only sees measured tiles here (session 14's first fit looked right offline and lost
0.69x at M = 32-64 on the GPU)."""
import collections
import math
import sys

import numpy as np

from tune_journal_io import measured_candidates

SMS = 132


def rows_of(m):
    return 16 if m <= 16 else 32 if m <= 32 else 64


def load(journal):
    rows = []
    for n, k, d in measured_candidates(journal):
        c = d["config"]
        if d["m"] > 64:
            continue
        sk = c.get("split_k", 1)
        kb = -(-k // 128)
        tiles = -(-d["m"] // c["block_m"]) * -(-n // c["block_n"])
        rows.append(dict(n=n, k=k, m=d["m"], bm=c["block_m"], bn=c["block_n"], sk=sk, st=c["stages"],
                         wg=c["consumer_warpgroups"], cl=c["cluster_m"] * c["cluster_n"], us=d["us"],
                         scl=c.get("split_cluster", 0), ctas=tiles * sk, kbu=-(-kb // sk),
                         waves=-(-tiles * sk // SMS)))
    return rows


def features(r):
    w = r["waves"] * r["kbu"]
    workspace = r["sk"] > 1 and not r["scl"]
    return [w, w * r["bn"] / 64, 1.0 if workspace else 0.0, r["m"] * r["n"] * r["sk"] * 8e-6 if workspace else 0.0,
            1.0 if r["scl"] else 0.0, 1.0]


def cluster_fits(r):
    """src/ops/sm90_fp8_gemm.cpp's split_summed_in_cluster rule."""
    return r["sk"] == 2 or (r["sk"] in (3, 4) and r["ctas"] * 100 <= 85 * SMS)


def in_domain(r):
    return (r["bm"] == rows_of(r["m"]) and r["wg"] == 1 and r["cl"] == 1 and r["st"] >= 4
            and r["bn"] in (16, 32, 64, 128) and (not r["scl"] or cluster_fits(r)))


def geomean(v):
    return math.exp(sum(map(math.log, v)) / len(v))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = load(sys.argv[1])
    fit = [r for r in rows if in_domain(r)]
    if not fit:
        sys.exit(f"no decode candidates in {sys.argv[1]}")
    x = np.array([features(r) for r in fit])
    y = np.array([r["us"] for r in fit])
    coef, *_ = np.linalg.lstsq(x / y[:, None], np.ones(len(y)), rcond=None)
    rms = float(np.sqrt(np.mean((x @ coef / y - 1) ** 2)))
    print("us = waves x kb x (%.4f + %.4f bn/64) + workspace split (%.4f + %.4f MB) + split cluster %.4f + %.4f"
          % tuple(coef))
    print(f"{len(fit)} candidates, relative rms error {rms:.3f}")

    searches = collections.defaultdict(list)
    for r in rows:
        searches[(r["n"], r["k"], r["m"])].append(r)
    by_m = collections.defaultdict(list)
    for (n, k, m), rs in sorted(searches.items()):
        tiles = collections.defaultdict(list)
        for r in rs:
            if in_domain(r):
                tiles[(r["bn"], r["sk"], r["scl"])].append(r)
        if tiles:
            pick = min(tiles.values(), key=lambda t: float(np.dot(features(t[0]), coef)))
            by_m[m].append(min(r["us"] for r in pick) / min(r["us"] for r in rs))
    print("model's favourite measured tile / search's best, geomean by M:",
          " ".join(f"M{m}:{geomean(v):.3f}" for m, v in sorted(by_m.items())))

    padded = collections.defaultdict(list)
    same = collections.defaultdict(dict)
    for r in rows:
        if r["wg"] == 1 and r["cl"] == 1 and r["st"] >= 4:
            same[(r["n"], r["k"], r["m"], r["bn"], r["sk"], r["st"])][r["bm"]] = r["us"]
    for (n, k, m, *_), t in same.items():
        for more, fewer in ((32, 16), (64, 32), (64, 16)):
            if fewer == rows_of(m) and more in t and fewer in t:
                padded[(more, fewer)].append(t[more] / t[fewer])
    for (more, fewer), v in sorted(padded.items()):
        print(f"rows past M: {more}-row tile / {fewer}-row tile, geomean {geomean(v):.3f} over {len(v)}")


if __name__ == "__main__":
    main()
