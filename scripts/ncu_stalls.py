#!/usr/bin/env python3
"""Reads the SASS source pages that `scripts/ncu_gemm.sh --source` writes (`ncu --page source --print-source
sass --csv`) and prints, per GEMM kernel (those with wgmma instructions): stall reasons, executed
instructions by opcode, stall samples by execution count (a loop body's instructions share one
count, so this splits main loop, prologue and producer), the stall reasons of each execution count
and of each opcode, and the instructions with the most samples.

  scripts/ncu_stalls.py OUT/fp8kit_2112_7168_512.src.csv OUT/deepgemm_2112_7168_512.src.csv
  scripts/ncu_stalls.py OUT/fp8kit_2112_7168_512.src.csv --range b6f80 b7ab0   # an address range, in order
"""

import argparse
import collections
import csv

SAMPLES = "Warp Stall Sampling (All Samples)"
EXECUTED = "Instructions Executed"


def number(text: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return 0.0


def gemm_kernels(path: str) -> list[list[dict]]:
    """The page's kernels (each a list of instruction rows) that issue wgmma."""
    kernels, rows, header = [], None, None
    for r in csv.reader(open(path)):
        if r and r[0] == "Kernel Name":
            rows, header = [], None
            kernels.append(rows)
        elif r and r[0] == "Address":
            header = r
        elif header and rows is not None and len(r) >= len(header) - 1:
            rows.append(dict(zip(header, r)))
    return [k for k in kernels if any("GMMA" in x["Source"] for x in k)]


def opcode(source: str) -> str:
    words = [w for w in source.split() if not w.startswith("@")]
    return words[0].split(".")[0] if words else "?"


def stalls(row: dict, top: int) -> list[tuple[float, str]]:
    reasons = [(number(v), k[len("stall_"):]) for k, v in row.items()
               if k.startswith("stall_") and "Not Issued" not in k]
    return sorted(reasons, reverse=True)[:top]


def address(row: dict) -> int:
    return int(row["Address"], 16) & 0xFFFFF


def line(row: dict, total: float) -> str:
    s = number(row[SAMPLES])
    return (f"  {address(row):05x} {s / total * 100:5.1f}% exec {number(row[EXECUTED]):9.0f}  "
            f"{row['Source'].strip()[:60]:60s} {stalls(row, 2) if s else ''}")


def reason_split(counters: dict, total: float, title: str, rows: int) -> None:
    """Each group's share of the samples, and its reasons (shares of all samples)."""
    print(title)
    for key, c in sorted(counters.items(), key=lambda kv: -sum(kv[1].values()))[:rows]:
        print(f"  {key:>10}: {sum(c.values()) / total * 100:5.1f}%  " +
              ", ".join(f"{r} {v / total * 100:.1f}" for r, v in c.most_common(5)))


def summary(kernel: list[dict], top: int) -> None:
    total = sum(number(x[SAMPLES]) for x in kernel) or 1.0
    reasons, ops, by_count = collections.Counter(), collections.Counter(), collections.Counter()
    count_reasons = collections.defaultdict(collections.Counter)
    op_reasons = collections.defaultdict(collections.Counter)
    for x in kernel:
        op, executed = opcode(x["Source"]), number(x[EXECUTED])
        ops[op] += executed
        by_count[executed] += number(x[SAMPLES])
        for s, reason in stalls(x, 99):
            reasons[reason] += s
            count_reasons[f"{executed:.0f}"][reason] += s
            op_reasons[op][reason] += s
    print(f"instructions executed {sum(ops.values()):.0f}, stall samples {total:.0f}")
    print("stalls:", ", ".join(f"{k} {v / total * 100:.1f}%" for k, v in reasons.most_common(10)))
    print("executed:", ", ".join(f"{k} {v / 1e3:.0f}k" for k, v in ops.most_common(14)))
    print("samples by execution count:",
          ", ".join(f"{c:.0f}: {s / total * 100:.1f}%" for c, s in by_count.most_common(6)))
    # A main loop that waits on its wgmma (barrier) is tensor-bound; one that stalls on dispatch or
    # fixed-latency dependencies is bound by its own instruction stream (session 33).
    reason_split(count_reasons, total, "stall reasons by execution count:", 6)
    reason_split(op_reasons, total, "stall reasons by opcode:", 12)
    print("top instructions:")
    for x in sorted(kernel, key=lambda x: -number(x[SAMPLES]))[:top]:
        print(line(x, total))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pages", nargs="+")
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--range", nargs=2, metavar=("FROM", "TO"), help="print these addresses (hex, low 20 bits)")
    a = p.parse_args()
    for path in a.pages:
        for i, kernel in enumerate(gemm_kernels(path)):
            print(f"===== {path}, GEMM kernel {i}: {len(kernel)} instructions")
            if a.range:
                lo, hi = (int(v, 16) for v in a.range)
                total = sum(number(x[SAMPLES]) for x in kernel) or 1.0
                print("\n".join(line(x, total) for x in kernel if lo <= address(x) <= hi))
            else:
                summary(kernel, a.top)


if __name__ == "__main__":
    main()
