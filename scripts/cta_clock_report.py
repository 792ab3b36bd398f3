#!/usr/bin/env python3
"""Reads the per-CTA timelines that scripts/experiments/cta_clock.patch prints (one `cta_clock` line
per CTA of a GEMM kernel's last launch, on stderr when the module unloads with FP8KIT_CTA_CLOCK=1)
and prints, per kernel: when the CTAs start, wait for the previous grid and finish their first main
loop and their last store, relative to the earliest start; the first main loop's SM cycles and the
clock they imply (a slower loop at a lower clock, or more cycles?); the spread of the CTAs'
durations; and where the slowest CTAs sit (SM, tile row and column), so a tail of slow CTAs can be
told from a late start or a slow row of tiles.

On the GPU machine (the patch built by `pending_calls.sh prepare` into build-exp/cta_clock):
  FP8KIT_CTA_CLOCK=1 build-exp/cta_clock/fp8kit bench gemm --providers fp8-block-w-group-a-noquant \\
      --backends fp8kit --shapes 3072,7168 --batch-sizes 512 --config-dir DIR 2> cta.log
  scripts/cta_clock_report.py cta.log [--top 8]
DIR holds configs named for the running GPU: on an H100, rewrite a copy of H200 files first with
scripts/tuned_configs_for_device.py --from 'NVIDIA H200' --to 'NVIDIA H100 80GB HBM3' DIR. The
patch's stores cost a few per CTA; the ptxas report of its kernels showed no spill (session 34)."""

import argparse
import statistics
from collections import defaultdict

FIELDS = ("block", "sm", "m_tile", "n_tile", "start", "waited", "loop", "end", "tiles")


def read(paths: list[str]) -> dict[str, list[dict]]:
    kernels: dict[str, list[dict]] = defaultdict(list)
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) != 2 + len(FIELDS) or parts[0] != "cta_clock":
                    continue
                cta = dict(zip(FIELDS, (int(v) for v in parts[2:])))
                # the patch packs the first main loop's SM cycles above the tile count (bit 16)
                cta["cycles"], cta["tiles"] = cta["tiles"] >> 16, cta["tiles"] & 0xFFFF
                kernels[parts[1]].append(cta)
    return kernels


def spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10) if len(values) > 1 else values * 9
    return (f"min {min(values):7.2f}  p10 {q[0]:7.2f}  median {statistics.median(values):7.2f}  "
            f"p90 {q[-1]:7.2f}  max {max(values):7.2f}")


def by_key(ctas: list[dict], key: str, value) -> str:
    groups: dict[int, list[float]] = defaultdict(list)
    for c in ctas:
        groups[c[key]].append(value(c))
    means = {k: statistics.mean(v) for k, v in groups.items()}
    lo, hi = min(means, key=means.get), max(means, key=means.get)
    return f"{len(groups)} values, mean from {means[lo]:.2f} ({key} {lo}) to {means[hi]:.2f} ({key} {hi})"


def report(name: str, ctas: list[dict], top: int) -> None:
    t0 = min(c["start"] for c in ctas)
    us = lambda ns: ns / 1000.0  # noqa: E731  (globaltimer counts ns)
    print(f"===== {name}: {len(ctas)} CTAs on {len({c['sm'] for c in ctas})} SMs, "
          f"{sum(c['tiles'] for c in ctas)} tiles, launch {us(max(c['end'] for c in ctas) - t0):.2f} us")
    print("  start after the first CTA, us:     ", spread([us(c["start"] - t0) for c in ctas]))
    print("  PDL wait (start -> waited), us:    ", spread([us(c["waited"] - c["start"]) for c in ctas]))
    print("  first main loop (waited -> loop):  ", spread([us(c["loop"] - c["waited"]) for c in ctas]))
    if all(c["cycles"] for c in ctas):  # its SM clock: a lower clock or more cycles (contention)?
        print("  first main loop, k SM cycles:      ", spread([c["cycles"] / 1000.0 for c in ctas]))
        print("  SM clock in it, MHz:               ",
              spread([1000.0 * c["cycles"] / max(1, c["loop"] - c["waited"]) for c in ctas]))
    print("  after it (loop -> end), us:        ", spread([us(c["end"] - c["loop"]) for c in ctas]))
    dur = [us(c["end"] - c["start"]) for c in ctas]
    print("  CTA duration (start -> end), us:   ", spread(dur))
    print(f"  slowest CTA / mean: {max(dur) / statistics.mean(dur):.3f}")
    single = all(c["tiles"] == 1 for c in ctas)
    if single:  # one tile a CTA: the tile's coordinates say which rows and columns run slow
        loop = lambda c: us(c["loop"] - c["waited"])  # noqa: E731
        print("  main loop by tile row:   ", by_key(ctas, "m_tile", loop))
        print("  main loop by tile column:", by_key(ctas, "n_tile", loop))
        print("  main loop by SM pair:    ", by_key([dict(c, tpc=c["sm"] // 2) for c in ctas], "tpc", loop))
    print(f"  the {top} slowest CTAs (block sm m n: start, waited, loop, end in us after the first start):")
    for c in sorted(ctas, key=lambda c: c["end"] - c["start"], reverse=True)[:top]:
        print(f"    {c['block']:4d} {c['sm']:3d} {c['m_tile']:3d} {c['n_tile']:3d}: {us(c['start'] - t0):6.2f} "
              f"{us(c['waited'] - t0):6.2f} {us(c['loop'] - t0):6.2f} {us(c['end'] - t0):6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--top", type=int, default=8)
    args = ap.parse_args()
    kernels = read(args.logs)
    if not kernels:
        raise SystemExit("no cta_clock lines: was FP8KIT_CTA_CLOCK=1 set for the patched binary, and did it exit"
                         " normally (the rows are read when the JIT modules unload at exit)?")
    for name, ctas in kernels.items():
        report(name, ctas, args.top)


if __name__ == "__main__":
    main()
