#!/usr/bin/env python3
"""Copies tuned-config files to another scale pair: the same tiles, served to GEMMs with other scales.
For diagnosis (DEVELOPING.md, "Splitting a GEMM's time"): with the block-scaled tiles copied to
tensor x tensor, one tile runs with block scales, with unit-factor promotion and with fast
accumulation, so a gap to a peer splits into the scale loads, the promotion and the pipeline.

  scripts/retag_tuned_configs.py SRC_DIR DST_DIR --mode-a tensor --mode-b tensor

Reads SRC_DIR's fp8kit_w8a8_block128x128_*.json, writes DST_DIR/fp8kit_w8a8_a-{A}_b-{B}_*.json
(the loader checks each config against the rules for its new modes, so a tile that is not valid
there is skipped with a warning, as any bad file)."""

import argparse
import glob
import json
import os

MODES_A = ("tensor", "token", "group128")
MODES_B = ("tensor", "channel", "block128")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--mode-a", required=True, choices=MODES_A)
    p.add_argument("--mode-b", required=True, choices=MODES_B)
    a = p.parse_args()
    block_tag = "block128x128"
    tag = block_tag if (a.mode_a, a.mode_b) == ("group128", "block128") else f"a-{a.mode_a}_b-{a.mode_b}"
    paths = sorted(glob.glob(os.path.join(a.src, f"fp8kit_w8a8_{block_tag}_*.json")))
    if not paths:
        raise SystemExit(f"{a.src}: no fp8kit_w8a8_{block_tag}_*.json files")
    os.makedirs(a.dst, exist_ok=True)
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        meta = data["metadata"]
        old = f"_a-{meta['mode_a']}_b-{meta['mode_b']}_"
        new = f"_a-{a.mode_a}_b-{a.mode_b}_"
        for key, entry in data.items():
            if key != "metadata":
                entry["kernel_name"] = entry["kernel_name"].replace(old, new)
        meta["mode_a"], meta["mode_b"] = a.mode_a, a.mode_b
        meta.setdefault("versions", {})["retagged_by"] = "scripts/retag_tuned_configs.py"
        name = os.path.basename(path).replace(f"fp8kit_w8a8_{block_tag}_", f"fp8kit_w8a8_{tag}_", 1)
        with open(os.path.join(a.dst, name), "w") as f:
            json.dump(data, f, indent=2)
        print(os.path.join(a.dst, name))


if __name__ == "__main__":
    main()
