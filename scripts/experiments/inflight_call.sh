#!/usr/bin/env bash
# Session 45 probe (issue 13): is a few-CTA decode GEMM held by the weight bytes each CTA keeps in
# flight? Call 9 read 512 x 7168 on 32 blocks in 3.7-4.0 us with 128 KB a block in flight; the GEMM's
# m16n16 full-K tile (32 CTAs, 32 stages of 2 KB of B: 64 KB) took 8.4 us. The same tiles at other
# ring depths and widths (one consumer), and the M = 1 / 16 gap some tiles showed (m16n32 s16 at
# 7168 x 2048: 10.4 against 7.9 us) swept over M. The split clusters on 64 CTAs need no reduce
# kernel: they are what a faster stream a CTA would make worth shipping. Then the shipped configs
# at DeepSeek-V3's decode shapes, M = 1 / 16 / 64, on the same binary.
# INFLIGHT_BIN=build-exp/l2ahead times the same on experiment l2ahead's binary (B streamed into L2
# 128 KB ahead of the ring; with FP8KIT_EXP_L2_EARLY=1 the first of it before the programmatic wait).
#   bash scripts/experiments/inflight_call.sh prepare   (builds l2ahead, fills build-run/jit: ~10 min)
#   bash scripts/experiments/inflight_call.sh OUT_DIR   (on the GPU; carry build-run, build-exp/l2ahead)
set -u
cd "$(dirname "$0")/../.."
export FP8KIT_CACHE_DIR=$PWD/build-run/jit  # each source hashes to its own entry
# name N,K M-LIST BM,BN,STAGES,WG,CM,CN[,SPLIT[,CLUSTER]]  (B bytes in flight a CTA: stages x block_n x 128)
cands=("n16s8 512,7168 16 16,16,8,1,1,1" "n16s16 512,7168 16 16,16,16,1,1,1" "n16s32 512,7168 16 16,16,32,1,1,1"
  "n32s16 512,7168 16 16,32,16,1,1,1" "n32s32 512,7168 16 16,32,32,1,1,1"
  "n32sk2s28 512,7168 16 16,32,28,1,1,1,2" "n16sk2s14 512,7168 16 16,16,14,1,1,1,2"
  "n32sk4cl 512,7168 1,16 16,32,14,1,1,1,4,1" "n16sk2cl 512,7168 1,16 16,16,28,1,1,1,2,1"
  "n32s16 7168,2048 1,2,4,8,16 16,32,16,1,1,1" "n64s6 7168,2048 1,2,4,8,16 16,64,6,1,1,1")
force() {  # NAME SHAPE M-LIST CFG DEVICE: the candidate's config folder (echoes its path)
  local f=/tmp/inflight/$1_${2/,/x} args=() m
  for m in ${3//,/ }; do args+=("$m=$4"); done
  rm -rf "$f" && python3 scripts/force_gemm_configs.py "$f" "${2%,*}" "${2#*,}" "${args[@]}" --device "$5" > /dev/null &&
    echo "$f"
}
if [ "${1:-}" = prepare ]; then  # kernels compile for every GPU alike: one device name's folders do
  bash scripts/experiments/build_exp.sh l2ahead || exit 1
  for side in "build-run " "build-exp/l2ahead " "build-exp/l2ahead 1"; do
    read -r bin early <<< "$side"
    for c in "${cands[@]}"; do
      read -r name shape ms cfg <<< "$c"
      f=$(force "$name" "$shape" "$ms" "$cfg" "NVIDIA H200") || exit 1
      FP8KIT_EXP_L2_EARLY=$early $bin/fp8kit cache warm --device-name "NVIDIA H200" --model deepseek-ai/DeepSeek-V3 \
        --tp 8 --batch-sizes ${ms//,/ } --config-dir "$f" > /dev/null 2>&1 || echo "warning: $bin $name: warm failed" >&2
    done
    for dev in "NVIDIA H200" "NVIDIA H100 80GB HBM3"; do
      FP8KIT_EXP_L2_EARLY=$early $bin/fp8kit cache warm --device-name "$dev" --model deepseek-ai/DeepSeek-V3 --tp 8 \
        --batch-sizes 1 16 64 --config-dir "configs/${dev// /_}" 2>&1 | tail -1
    done
  done
  du -sh build-run build-exp/l2ahead
  exit 0
fi
d=${1:?usage: inflight_call.sh OUT_DIR | prepare}/inflight
bin=${INFLIGHT_BIN:-build-run}
mkdir -p "$d" && echo "$bin FP8KIT_EXP_L2_EARLY=${FP8KIT_EXP_L2_EARLY:-}" > "$d/binary.txt"
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
gemm=(bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --timing cold)
for c in "${cands[@]}"; do
  read -r name shape ms cfg <<< "$c"
  f=$(force "$name" "$shape" "$ms" "$cfg" "$gpu_name") || exit 1
  $bin/fp8kit "${gemm[@]}" --batch-sizes ${ms//,/ } --shapes "$shape" --config-dir "$f" --out "$d/${f##*/}" \
    > "$d/${f##*/}.txt" 2>&1 || echo "${f##*/}: failed (see its log)"
done
own=configs/${gpu_name// /_}
[ -d "$own" ] || own=configs/NVIDIA_H200
$bin/fp8kit "${gemm[@]}" --models deepseek-ai/DeepSeek-V3 --tp-sizes 8 --batch-sizes 1 16 64 --config-dir "$own" \
  --out "$d/shipped" > "$d/shipped.txt" 2>&1
python3 - "$d" << 'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/*/gemm_results.jsonl")):
    for line in open(path):
        r = json.loads(line); p, m = r["params"], r["metrics"]
        us, kernel = m.get("us_median", float("nan")), p.get("kernel", "?").split("bf16_")[-1]
        print(f'{path.split("/")[-2]:22s} {p["n"]:>5}x{p["k"]:<5} M={p["m"]:>2} {us:6.2f} us  {r["status"]}  {kernel}')
PY
