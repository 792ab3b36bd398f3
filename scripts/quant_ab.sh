#!/usr/bin/env bash
# A/B of two fp8kit builds' quantization in one GPU call (a kernel or planner change against its
# base): B's quantization GPU tests first (a wrong kernel is not timed), then `bench quant --check`
# of A and of B on the same shapes, twice in the order A B A B (each side keeps its faster run of a
# cell), then the speed of B relative to A (A's µs / B's µs: > 1 is faster) per cell and its
# geometric mean by M. Shapes: M = 1 to 4096 x H = 896 to 7168, every granularity and scale layout,
# plus ragged and unaligned rows (H = 1003 and 4100).
# Usage: scripts/quant_ab.sh A_BIN B_BIN B_GPU_TESTS OUT_DIR [DTYPE ...]   (default bfloat16)
# Compare only inside one call: the benches run back to back on one GPU.
set -euo pipefail
a=$1 b=$2 tests=$3 out=$4
shift 4
dtypes=("$@")
[ ${#dtypes[@]} -gt 0 ] || dtypes=(bfloat16)
mkdir -p "$out"
"$tests" --gtest_filter='QuantizeGpu.*' > "$out/b_gpu_tests.log" 2>&1 ||
  { tail -20 "$out/b_gpu_tests.log"; echo "B's quantization GPU tests failed: not timed"; exit 1; }
for round in 1 2; do
  for side in a b; do
    bin=$a; [ $side = b ] && bin=$b
    for dt in "${dtypes[@]}"; do
      "$bin" bench quant --check --impl fp8kit --dtype "$dt" --batch-sizes 1 16 128 1024 4096 \
        --hidden-sizes 896 2048 4096 7168 --out "$out/$side$round-$dt" > "$out/$side$round-$dt.log" 2>&1
      "$bin" bench quant --check --impl fp8kit --dtype "$dt" --batch-sizes 16 4096 --hidden-sizes 1003 4100 \
        --group-sizes 0 -1 --out "$out/$side$round-$dt-ragged" > "$out/$side$round-$dt-ragged.log" 2>&1
    done
  done
done
python3 - "$out" <<'PY'
import collections, glob, json, math, os, sys
out = sys.argv[1]
def load(side):
    best, failed = {}, []
    for path in glob.glob(f"{out}/{side}[12]-*/quant_results.jsonl"):
        for line in open(path):
            d = json.loads(line)
            q = d["params"]
            key = (q["dtype"], int(q["m"]), int(q["h"]), q["group"], q["layout"])
            if d["status"] != "ok":
                failed.append((key, d["status"]))
            elif "us_median" in d["metrics"]:
                best[key] = min(best.get(key, math.inf), float(d["metrics"]["us_median"]))
    return best, failed
(a, fa), (b, fb) = load("a"), load("b")
for key, status in fa + fb:
    print("FAILED", key, status)
by_m = collections.defaultdict(list)
for key in sorted(a.keys() & b.keys()):
    r = a[key] / b[key]
    by_m[key[1]].append(r)
    print(f"{key[0]:9s} M={key[1]:5d} H={key[2]:5d} {key[3]:>10s} {key[4]:>12s}  A {a[key]:8.2f} us  B {b[key]:8.2f} us  A/B {r:.3f}")
geo = lambda v: math.exp(sum(map(math.log, v)) / len(v))
for m, v in sorted(by_m.items()):
    print(f"M={m}: speed B/A geomean {geo(v):.3f} over {len(v)} (min {min(v):.3f}, max {max(v):.3f})")
allv = [x for v in by_m.values() for x in v]
print(f"all: speed B/A geomean {geo(allv):.3f} over {len(allv)}; failed: {len(fa)} in A, {len(fb)} in B")
PY
