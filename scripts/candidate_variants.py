#!/usr/bin/env python3
"""Writes config folders that each replace some (N, K, M) entries of a tuned-config folder by one
candidate, for benching candidates the tuner's climb did not reach with the bench's own (sustained)
timing: variant i holds the i-th candidate of every cell that has one, the base's config elsewhere.

  scripts/candidate_variants.py BASE_DIR OUT_DIR N,K,M=BM,BN,STAGES,WG,CM,CN[/...] ...

writes OUT_DIR/v1 ... OUT_DIR/vI (I: the most candidates of any cell)."""

import glob
import json
import os
import shutil
import sys

from force_gemm_configs import FIELDS, entry, write_json


def parse(arg: str) -> tuple[tuple[int, int, int], list[dict]]:
    cell, rest = arg.split("=", 1)
    n, k, m = (int(v) for v in cell.split(","))
    cands = []
    for text in rest.split("/"):
        cands.append(entry(dict(zip(FIELDS, (int(v) for v in text.split(","))))))
    return (n, k, m), cands


def config_file(folder: str, n: int, k: int) -> str:
    """The block128x128 config file of one (N, K) shape in a config folder."""
    return glob.glob(os.path.join(folder, f"fp8kit_w8a8_block128x128_N={n},K={k},out=bfloat16,*.json"))[0]


def main() -> None:
    base, out, *cells = sys.argv[1:]
    table = dict(parse(a) for a in cells)
    variants = max(len(c) for c in table.values())
    for i in range(variants):
        d = os.path.join(out, f"v{i + 1}")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(base, d)
        for (n, k, m), cands in table.items():
            if i >= len(cands):
                continue
            path = config_file(d, n, k)
            f = json.load(open(path))
            f[str(m)] = cands[i]
            write_json(path, f)


if __name__ == "__main__":
    main()
