#!/usr/bin/env python3
"""Writes a tuned-config file that forces one GEMM config per batch size (DEVELOPING.md, "Forcing a
GEMM config"): for A/Bs of configs, repros and experiments that the tuner's space does not reach
(split-K, say). Pass the folder as `fp8kit bench gemm --config-dir DIR`.

  scripts/force_gemm_configs.py DIR N K M=BM,BN,STAGES,WG,CM,CN[,SPLIT_K[,SPLIT_CLUSTER]] ... [--device "NVIDIA H200"]

Each M gets exactly its config (the reader picks the nearest M of the file for other batch sizes)."""

import argparse
import datetime
import json
import os

FIELDS = ("block_m", "block_n", "stages", "consumer_warpgroups", "cluster_m", "cluster_n", "split_k", "split_cluster")


def kernel_name(c: dict) -> str:
    """core/gemm_config.cpp's kernel_name for a block-scaled bf16 config."""
    cluster = f"c{c['cluster_m']}" if c["cluster_n"] == 1 else f"cn{c['cluster_n']}"
    split = f"_sk{c['split_k']}{'cl' if c.get('split_cluster', 0) else ''}" if c.get("split_k", 1) > 1 else ""
    return (f"sm90_fp8_gemm_a-group128_b-block128_bf16_m{c['block_m']}n{c['block_n']}k128_s{c['stages']}"
            f"_wg{c['consumer_warpgroups']}_{cluster}{split}")


def entry(c: dict) -> dict:
    """One batch size's config as core/tuned_config_file.cpp writes it: its key order, the split
    fields only where set, so that a merged file differs from the shipped one only where it should."""
    keys = ("block_m", "block_n", "block_k", "stages", "consumer_warpgroups", "cluster_m", "cluster_n", "group_size_m")
    out = {key: c.get(key, {"block_k": 128, "group_size_m": 8}.get(key)) for key in keys}
    out["kernel_name"] = kernel_name(c)
    if c.get("split_k", 1) > 1:
        out["split_k"] = c["split_k"]
    if c.get("split_cluster", 0):
        out["split_cluster"] = c["split_cluster"]
    return out


def write_json(path: str, data: dict) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


def config(text: str) -> tuple[int, dict]:
    m, values = text.split("=", 1)
    numbers = [int(v) for v in values.split(",")]
    if not 6 <= len(numbers) <= 8:
        raise SystemExit(f"{text}: M=BM,BN,STAGES,WG,CM,CN[,SPLIT_K[,SPLIT_CLUSTER]]")
    c = dict(zip(FIELDS, numbers))
    c.update(block_k=128, group_size_m=8)
    return int(m), c


def write_file(folder: str, n: int, k: int, configs: dict, device: str) -> str:
    """A block-scaled bf16 tuned-config file of N x K holding configs {M: config fields}."""
    out = {str(m): entry(c) for m, c in sorted(configs.items())}
    per_batch = {str(m): {"best_tflops": 0.0, "default_tflops": 0.0, "speedup": 0.0, "default_kernel_name": "",
                          "candidates_tried": 0, "candidates_failed": 0} for m in sorted(configs)}
    out["metadata"] = {"format": "fp8kit-tuned-gemm", "format_version": 1, "n": n, "k": k, "out": "bfloat16",
                       "mode_a": "group128", "mode_b": "block128", "device": device,
                       "versions": {"forced_by": "scripts/force_gemm_configs.py"},
                       "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "time_spent_s": 0.0, "candidates_tried": 0, "candidates_failed": 0, "per_batch_size": per_batch}
    os.makedirs(folder, exist_ok=True)
    name = f"fp8kit_w8a8_block128x128_N={n},K={k},out=bfloat16,device={device.replace(' ', '_')}.json"
    write_json(os.path.join(folder, name), out)
    return os.path.join(folder, name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir")
    p.add_argument("n", type=int)
    p.add_argument("k", type=int)
    p.add_argument("configs", nargs="+", type=config, metavar="M=BM,BN,STAGES,WG,CM,CN[,SPLIT_K[,SPLIT_CLUSTER]]")
    p.add_argument("--device", default="NVIDIA H200")
    a = p.parse_args()
    print(write_file(a.dir, a.n, a.k, dict(a.configs), a.device))


if __name__ == "__main__":
    main()
