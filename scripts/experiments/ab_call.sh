#!/usr/bin/env bash
# A/B of an experiment binary against main (issue 13's decode), every output verified before it is
# timed, A B A B (min of the rounds): the shipped configs at DeepSeek-V3's 15 shapes, M = 1 / 16 /
# 64, cold; then session 46's few-CTA tiles forced at M = 1 / 16 (m16n16 s16 on 32 CTAs at 512 x
# 7168, m16n32 s16 at 7168 x 2048, the 64-CTA split clusters at 512 x 7168, which need no reduce
# kernel). Session 46 ran it for bmulti (0.97x, PERF.md) and prepared it for
#   tmagroup  a decode tile's A and B loaded several K blocks a TMA, its A scales read from global
#   l2early   the first tile's B prefetched into L2 before the programmatic wait
#             (EXP_ENV=FP8KIT_EXP_L2_EARLY=1)
#   EXP=NAME [EXP_ENV=VAR=1] bash scripts/experiments/ab_call.sh prepare   (builds it, warms build-run/jit)
#   EXP=NAME [EXP_ENV=VAR=1] bash scripts/experiments/ab_call.sh OUT_DIR   (GPU; carry build-run, build-exp/NAME)
set -u
cd "$(dirname "$0")/../.."
export FP8KIT_CACHE_DIR=$PWD/build-run/jit
name=${EXP:?set EXP to the experiment} exp_env=${EXP_ENV:-FP8KIT_EXP_NONE=1}
# name N K M-LIST CONFIG
forced=("n16s16 512 7168 1,16 16,16,16,1,1,1" "n32s16 7168 2048 1,16 16,32,16,1,1,1"
  "n16sk2cl 512 7168 1,16 16,16,28,1,1,1,2,1" "n32sk4cl 512 7168 1,16 16,32,14,1,1,1,4,1")
force() {  # DEVICE NAME N K M-LIST CONFIG: the forced config's folder (echoes its path)
  local f=/tmp/ab_call/$2 args=() m
  for m in ${5//,/ }; do args+=("$m=$6"); done
  rm -rf "$f" && python3 scripts/force_gemm_configs.py "$f" "$3" "$4" "${args[@]}" --device "$1" > /dev/null && echo "$f"
}
if [ "${1:-}" = prepare ]; then
  bash scripts/experiments/build_exp.sh "$name" || exit 1
  for side in "build-run FP8KIT_EXP_NONE=1" "build-exp/$name $exp_env"; do
    read -r bin vars <<< "$side"
    for dev in "NVIDIA H200" "NVIDIA H100 80GB HBM3"; do
      env "$vars" "$bin/fp8kit" cache warm --device-name "$dev" --model deepseek-ai/DeepSeek-V3 --tp 8 \
        --batch-sizes 1 16 64 --config-dir "configs/${dev// /_}" 2>&1 | tail -1
    done
    for c in "${forced[@]}"; do
      read -r cell n k ms cfg <<< "$c"
      f=$(force "NVIDIA H200" "$cell" "$n" "$k" "$ms" "$cfg") || exit 1
      env "$vars" "$bin/fp8kit" cache warm --device-name "NVIDIA H200" --model deepseek-ai/DeepSeek-V3 --tp 8 \
        --batch-sizes ${ms//,/ } --config-dir "$f" 2>&1 | tail -1  # (N, K) is one of its shapes
    done
  done
  du -sh build-run "build-exp/$name"
  exit 0
fi
d=${1:?usage: ab_call.sh OUT_DIR | prepare}/ab/$name  # device_next.sh archives OUT/ab
mkdir -p "$d"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
own=configs/${gpu// /_}
[ -d "$own" ] || own=configs/NVIDIA_H200
gemm=(bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --timing cold)
run_side() {  # LABEL BIN VARS
  env "$3" "$2/fp8kit" "${gemm[@]}" --models deepseek-ai/DeepSeek-V3 --tp-sizes 8 --batch-sizes 1 16 64 --config-dir "$own" \
    --out "$d/$1_shipped" > "$d/$1_shipped.txt" 2>&1 || echo "$1 shipped: failed"
  for c in "${forced[@]}"; do
    read -r cell n k ms cfg <<< "$c"
    f=$(force "$gpu" "$cell" "$n" "$k" "$ms" "$cfg") || return 1
    env "$3" "$2/fp8kit" "${gemm[@]}" --shapes "$n,$k" --batch-sizes ${ms//,/ } --config-dir "$f" --out "$d/$1_$cell" \
      > "$d/$1_$cell.txt" 2>&1 || echo "$1 $cell: failed"
  done
}
for round in 1 2; do
  run_side "main$round" build-run FP8KIT_EXP_NONE=1
  run_side "exp$round" "build-exp/$name" "$exp_env"
done
python3 - "$d" <<'PY'
import csv, glob, math, os, sys
d = sys.argv[1]
def read(side):  # {(group, n, k, m): [µs of each round that verified ok]}
    out = {}
    for p in glob.glob(f"{d}/{side}[12]_*/gemm_results.csv"):
        group = os.path.basename(os.path.dirname(p)).split("_", 1)[1]
        for r in csv.DictReader(open(p)):
            times = out.setdefault((group, int(r["n"]), int(r["k"]), int(r["m"])), [])
            if r["status"] == "ok":
                times.append(float(r["us_median"]))
    return out
a, b = read("main"), read("exp")
logs = []
for key in sorted(a, key=lambda t: (t[0] != "shipped", t[3], t[1] * t[2])):
    x, y = min(a[key], default=math.nan), min(b.get(key, []), default=math.nan)
    if key[0] == "shipped" and not math.isnan(x) and not math.isnan(y):
        logs.append(math.log(x / y))
    print(f"{key[0]:8} {key[1]:>6} x {key[2]:<6} M={key[3]:<3} main {x:7.2f}  exp {y:7.2f}  speedup {x / y:.3f}")
if logs:
    print(f"shipped geomean speedup (min of two rounds each side) {math.exp(sum(logs) / len(logs)):.3f} over {len(logs)} cells")
PY
