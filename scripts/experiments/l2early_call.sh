#!/usr/bin/env bash
# Session 46 A/B (issue 13): experiment l2early (the first tile's B prefetched into L2 before the
# programmatic wait, FP8KIT_EXP_L2_EARLY=1) against main, shipped configs, DeepSeek-V3's 15 shapes,
# M = 1 / 16 / 64, cold, twice in A B A B order. Session 46's l2ahead-early probe, which also
# streamed B into L2 ahead of the ring, ran the short-K shapes 0.1-0.3 us faster (7168 x 256
# 2.89 -> 2.60 us) and the long ones slower; this keeps only the part before the wait.
#   bash scripts/experiments/l2early_call.sh prepare   (builds l2early, warms build-run/jit)
#   bash scripts/experiments/l2early_call.sh OUT_DIR   (GPU; carry build-run and build-exp/l2early)
set -u
cd "$(dirname "$0")/../.."
export FP8KIT_CACHE_DIR=$PWD/build-run/jit
devices=("NVIDIA H200" "NVIDIA H100 80GB HBM3")
if [ "${1:-}" = prepare ]; then
  bash scripts/experiments/build_exp.sh l2early || exit 1
  for side in "build-run " "build-exp/l2early 1"; do
    read -r bin early <<< "$side"
    for dev in "${devices[@]}"; do
      FP8KIT_EXP_L2_EARLY=$early $bin/fp8kit cache warm --device-name "$dev" --model deepseek-ai/DeepSeek-V3 --tp 8 \
        --batch-sizes 1 16 64 --config-dir "configs/${dev// /_}" 2>&1 | tail -1
    done
  done
  du -sh build-run build-exp/l2early
  exit 0
fi
d=${1:?usage: l2early_call.sh OUT_DIR | prepare}/l2early
mkdir -p "$d"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
own=configs/${gpu// /_}
[ -d "$own" ] || own=configs/NVIDIA_H200
gemm=(bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --timing cold --models deepseek-ai/DeepSeek-V3
  --tp-sizes 8 --batch-sizes 1 16 64 --config-dir "$own")
for round in 1 2; do
  build-run/fp8kit "${gemm[@]}" --out "$d/main$round" > "$d/main$round.txt" 2>&1
  FP8KIT_EXP_L2_EARLY=1 build-exp/l2early/fp8kit "${gemm[@]}" --out "$d/early$round" > "$d/early$round.txt" 2>&1
done
python3 - "$d" <<'PY'
import csv, math, sys
d = sys.argv[1]
def read(name):
    return {(r["n"], r["k"], r["m"]): float(r["us_median"]) for r in csv.DictReader(open(f"{d}/{name}/gemm_results.csv"))}
main = [read("main1"), read("main2")]
early = [read("early1"), read("early2")]
logs = []
for key in sorted(main[0], key=lambda t: (int(t[2]), int(t[0]) * int(t[1]))):
    m = min(x[key] for x in main)
    e = min(x[key] for x in early)
    logs.append(math.log(m / e))
    print(f"{key[0]:>6} x {key[1]:<6} M={key[2]:<3} main {m:7.2f}  early {e:7.2f}  speedup {m / e:.3f}")
print(f"geomean speedup (min of two rounds each) {math.exp(sum(logs) / len(logs)):.3f} over {len(logs)} cells")
PY
