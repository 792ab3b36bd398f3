"""python -m fp8kit.compare gemm|quant [options]: see fp8kit/compare/__init__.py."""

from __future__ import annotations

import argparse
import random
import sys


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m fp8kit.compare", description=__doc__)
    sub = p.add_subparsers(dest="what", required=True)
    g = sub.add_parser("gemm", help="block-scaled FP8 GEMMs on model shapes: TFLOP/s and error")
    g.add_argument("--shapes", nargs="*", default=[], help="N,K pairs (default: DeepSeek-V3 at TP 8)")
    g.add_argument("--batch-sizes", nargs="+", type=int, default=[16, 64, 128, 512, 2048, 4096])
    q = sub.add_parser("quant", help="activation quantization: µs and GB/s")
    q.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 16, 128, 1024, 4096])
    q.add_argument("--hidden-sizes", nargs="+", type=int, default=[896, 2048, 4096, 7168])
    q.add_argument("--groups", nargs="+", default=["per-token", "group128", "per-tensor"],
                   choices=["per-token", "group128", "per-tensor"])
    for s in (g, q):
        s.add_argument("--peers", default="deepgemm,vllm", help="comma-separated: deepgemm, vllm (those that import)")
        s.add_argument("--out", default="compare_results", help="folder for the JSONL and CSV files")
        s.add_argument("--seed", type=int, default=None, help="input seed (default: fresh, and printed)")
    args = p.parse_args(argv)
    if args.what == "gemm":
        try:
            args.shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
        except ValueError:
            p.error(f"--shapes takes N,K pairs, got {args.shapes}")
        if any(len(s) != 2 or min(s) <= 0 for s in args.shapes):
            p.error(f"--shapes takes positive N,K pairs, got {args.shapes}")
    if any(m <= 0 for m in args.batch_sizes):
        p.error("--batch-sizes must be positive")
    return args


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print(f"seed {seed}")
    peers = set(args.peers.split(","))
    if args.what == "gemm":
        from . import gemm

        files = gemm.run(args.shapes or gemm.DSV3_TP8, args.batch_sizes, peers, args.out, seed)
    else:
        from . import quant

        files = quant.run(args.batch_sizes, args.hidden_sizes, args.groups, peers, args.out, seed)
    print("results: " + " and ".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
