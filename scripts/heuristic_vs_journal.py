#!/usr/bin/env python3
"""How far the heuristic's picks are from the best a tune measured, offline (no GPU): joins the
JSON lines of `fp8kit cache warm --show-configs --config-dir none` with tuner journals and prints,
per weight-scale mode and M, the geometric mean and maximum of (measured time of the pick) / (the
search's best). A pick the journal measured only at another ring depth takes that time (marked ~);
one it never measured is listed and left out. Use it before changing the heuristic, then A/B the
change on a GPU (the journal's times are one search's, in its timing mode).

  fp8kit cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 1 16 64 --config-dir none \\
      --sm-count 132 --show-configs > picks.jsonl
  scripts/heuristic_vs_journal.py picks.jsonl JOURNAL_DIR [JOURNAL_DIR ...] [--cells]
(a JOURNAL_DIR is <save>/.fp8kit-tune-state, or a folder of docs/data/tune-journal-*.tgz unpacked)
"""
import collections
import json
import math
import sys

from tune_journal_io import measured_candidates


def signature(c, with_stages=True):
    s = (c["block_m"], c["block_n"], c.get("split_k", 1), c.get("split_cluster", 0), c["consumer_warpgroups"],
         c["cluster_m"] * c["cluster_n"])
    return s + ((c["stages"],) if with_stages else ())


def main(argv):
    cells = "--cells" in argv
    args = [a for a in argv if a != "--cells"]
    if len(args) < 2:
        sys.exit(__doc__)
    searches = collections.defaultdict(list)  # (mode_a, mode_b, n, k, m) -> [(config, us)]
    for journal in args[1:]:
        for n, k, d in measured_candidates(journal):
            c = d["config"]
            searches[(c["mode_a"], c["mode_b"], n, k, d["m"])].append((c, d["us"]))
    ratios, unmeasured = collections.defaultdict(list), []
    for line in open(args[0]):
        if not line.startswith("{"):
            continue
        pick = json.loads(line)
        c = pick["config"]
        measured = searches.get((c["mode_a"], c["mode_b"], pick["n"], pick["k"], pick["m"]))
        if not measured:
            continue
        same = [us for cc, us in measured if signature(cc) == signature(c)]
        other_ring = [us for cc, us in measured if signature(cc, False) == signature(c, False)]
        if not same and not other_ring:
            unmeasured.append(pick["kernel_name"])
            continue
        ratio = min(same or other_ring) / min(us for _, us in measured)
        ratios[(c["mode_b"], pick["m"])].append(ratio)
        if cells:
            print(f"N={pick['n']} K={pick['k']} M={pick['m']} {pick['kernel_name']}{'' if same else ' ~'} {ratio:.3f}")
    for (mode, m), v in sorted(ratios.items()):
        geo = math.exp(sum(map(math.log, v)) / len(v))
        print(f"B {mode} M={m}: pick / best geomean {geo:.3f}, max {max(v):.3f}, over {len(v)}")
    for name in unmeasured:
        print("not in the journal:", name)


if __name__ == "__main__":
    main(sys.argv[1:])
