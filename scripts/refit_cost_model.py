#!/usr/bin/env python3
"""Refits the block-scaled GEMM cost model (src/core/gemm_cost_model.cpp, used by
default_gemm_config and the tuner's ranking) to a tuner journal. For each search (N, K, M) of the
journal, a mirror of the model picks the cheapest of default_gemm_config's candidate tiles among
those measured (cluster 1, >= 3 stages, the tile's best stage variant); its score is the search's
best time (any config, the tuned one) over the pick's. A grid over the straddle charges and the fixed per-tile cost prints
the best settings and the cells the best one loses most on.
Usage: refit_cost_model.py JOURNAL_DIR   (a tune's <save>/.fp8kit-tune-state, or docs/data/*.tgz unpacked)
Keep the mirror in step with the C++ model; check the C++ picks after changing it."""
import collections
import itertools
import math
import sys

from tune_journal_io import measured_candidates

SMS = 132
TILES = ([(64, bn, 1) for bn in (16, 32, 48, 64, 80, 96, 112, 128)] +
         [(128, bn, 2) for bn in (16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 192)] + [(256, 64, 2), (256, 128, 2)])


def load(journal):
    searches = collections.defaultdict(dict)  # (n, k, m) -> {(bm, bn, wg): best us over stages, "best": us}
    for n, k, d in measured_candidates(journal):
        c = d["config"]
        s = searches[(n, k, d["m"])]
        s["best"] = min(s.get("best", math.inf), d["us"])
        if c["cluster_m"] * c["cluster_n"] == 1 and c["stages"] >= 3:
            key = (c["block_m"], c["block_n"], c["consumer_warpgroups"])
            s[key] = min(s.get(key, math.inf), d["us"])
    return searches


def rate(bm, bn, wg, p):
    two_slices = bm // wg > 64
    r = (0.8 if two_slices else 1.05) if wg == 1 else (1.03 if two_slices else 1.0)
    if 128 % bn:
        r *= p["narrow"] if bn < 128 else p["wide"]
    return r


def cost(bm, bn, wg, n, m, p):
    rounds = -(-(-(-m // bm) * -(-n // bn)) // SMS)
    return rounds * (bm / 128 * bn + p["fixed"] * max(bm, 128) / 128) / rate(bm, bn, wg, p)


def score(searches, p, show=False):
    ratios = []
    for (n, k, m), s in sorted(searches.items()):
        cands = [(cost(*t, n, m, p), -t[0], s[t], t) for t in TILES if t in s]
        if not cands:
            continue
        pick = min(cands)  # ties go to the larger tile, as the C++ loop's later candidate
        ratios.append(s["best"] / pick[2])
        if show and ratios[-1] < 0.95:
            print(f"  {n:6d} {k:6d} {m:5d}  picks m{pick[3][0]}n{pick[3][1]}: {ratios[-1]:.3f} of the best")
    return math.exp(sum(map(math.log, ratios)) / len(ratios)), min(ratios), len(ratios)


def main():
    searches = load(sys.argv[1])
    grid = itertools.product([0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0], [0.8, 0.85, 0.9, 0.95, 1.0, 1.05], [32, 40, 48, 56, 64])
    results = sorted(((score(searches, p), p) for p in (dict(narrow=a, wide=b, fixed=f) for a, b, f in grid)),
                     key=lambda r: -r[0][0])
    for (geo, worst, count), p in results[:8]:
        print(f"geomean {geo:.4f} worst {worst:.3f} over {count} searches: {p}")
    print("cells below 0.95 with the best settings:")
    score(searches, results[0][1], show=True)


if __name__ == "__main__":
    main()
