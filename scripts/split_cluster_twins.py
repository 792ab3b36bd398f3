#!/usr/bin/env python3
"""Turns `fp8kit cache warm --show-configs` lines (block-scaled, bf16) into two tuned-config folders
that differ only where a config splits K: WORKSPACE/ holds every config as shown, CLUSTER/ the same
with each split (split_k 2-8) summed in its cluster instead (split_cluster = 1). Benchmarked with
`fp8kit bench gemm --config-dir` one after the other, they are the split-cluster A/B (issue 13).

  fp8kit cache warm --model M --tp T --batch-sizes 1 16 64 --config-dir none --show-configs > shown.jsonl
  scripts/split_cluster_twins.py shown.jsonl OUT [--device "NVIDIA H200"]   # OUT/workspace, OUT/cluster

Prints how many (N, K, M) cells split, i.e. differ between the two folders."""

import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from force_gemm_configs import write_file  # noqa: E402

TILE_FIELDS = ("block_m", "block_n", "block_k", "stages", "consumer_warpgroups", "cluster_m", "cluster_n",
               "group_size_m", "split_k", "split_cluster")
MAX_SPLIT_CLUSTER = 8  # core/gemm_config.hpp's kMaxSplitCluster: the portable cluster size


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("shown")
    p.add_argument("out")
    p.add_argument("--device", default="NVIDIA H200")
    a = p.parse_args()
    workspace, cluster = collections.defaultdict(dict), collections.defaultdict(dict)
    split_cells = 0
    with open(a.shown) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            j = json.loads(line)
            c = j["config"]
            if (c["mode_a"], c["mode_b"], c["out"]) != ("group128", "block128", "bfloat16"):
                raise SystemExit(f"{a.shown}: only block-scaled bf16 configs, got {c['mode_a']} {c['mode_b']} {c['out']}")
            tile = {k: c[k] for k in TILE_FIELDS if k in c}
            key = (j["n"], j["k"])
            workspace[key][j["m"]] = dict(tile, split_cluster=0)
            splits = 2 <= tile.get("split_k", 1) <= MAX_SPLIT_CLUSTER
            cluster[key][j["m"]] = dict(tile, split_cluster=1 if splits else 0)
            split_cells += splits
    if not workspace:
        raise SystemExit(f"{a.shown}: no config lines (from `fp8kit cache warm --show-configs`)")
    for (n, k), configs in workspace.items():
        write_file(os.path.join(a.out, "workspace"), n, k, configs, a.device)
        write_file(os.path.join(a.out, "cluster"), n, k, cluster[(n, k)], a.device)
    print(f"{sum(len(v) for v in workspace.values())} cells over {len(workspace)} shapes, {split_cells} split")


if __name__ == "__main__":
    main()
