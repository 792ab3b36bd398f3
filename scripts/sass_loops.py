#!/usr/bin/env python3
"""Counts the instructions of a kernel's loops in its SASS (`cuobjdump -sass`, or the kernel.sass
that FP8KIT_JIT_DUMP_SASS=1 writes beside each cubin): every backward branch whose body has at most
--max instructions (the mbarrier retry paths at a kernel's end branch back across it all) is one
loop, printed with its address range, its instruction count, and the opcodes that matter for a GEMM
K loop. Divide by the K blocks a body holds (a lap of s stages holds s) for instructions a K block.

  scripts/sass_loops.py kernel.sass [--max 1500] [--range 1a40 3d30]   # --range: one body, every opcode
"""

import argparse
import collections
import re

LINE = re.compile(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
GUARD = re.compile(r"^@!?U?P[T0-9]+\s+")
KEY = ("QGMMA", "HGMMA", "FFMA", "FMUL", "LDS", "LDG", "SYNCS", "WARPGROUP", "R2UR", "BRA")


def instructions(path: str) -> list[tuple[int, str]]:
    out = []
    for line in open(path):
        m = LINE.match(line)
        if m:
            out.append((int(m.group(1), 16), GUARD.sub("", m.group(2))))
    return out


def opcode(text: str) -> str:
    return text.split()[0].split(".")[0] if text else ""


def histogram(body: list[str]) -> collections.Counter:
    return collections.Counter(opcode(t) for t in body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sass")
    ap.add_argument("--max", type=int, default=1500, help="largest loop body to report")
    ap.add_argument("--range", nargs=2, metavar=("LO", "HI"), help="hex addresses: every opcode of one body")
    a = ap.parse_args()
    ins = instructions(a.sass)
    if a.range:
        lo, hi = (int(x, 16) for x in a.range)
        body = [t for addr, t in ins if lo <= addr <= hi]
        print(len(body), sorted(histogram(body).items(), key=lambda kv: -kv[1]))
        return
    for addr, text in ins:
        target = re.search(r"0x([0-9a-f]+)", text) if opcode(text) == "BRA" else None
        start = int(target.group(1), 16) if target else addr
        if start >= addr:
            continue
        body = [t for x, t in ins if start <= x <= addr]
        if len(body) > a.max:
            continue
        h = histogram(body)
        keys = ", ".join(f"{k} {h[k]}" for k in KEY if h[k])
        print(f"{start:05x}-{addr:05x}: {len(body)} instructions; {keys}; "
              f"U* {sum(v for k, v in h.items() if k.startswith('U'))}")


if __name__ == "__main__":
    main()
