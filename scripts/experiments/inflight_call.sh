#!/usr/bin/env bash
# Session 45 probe (issue 13): is a few-CTA decode GEMM held by the weight bytes each CTA keeps in
# flight? Call 9 read 512 x 7168 on 32 blocks in 3.7-4.0 us with 128 KB a block in flight; the GEMM's
# m16n16 full-K tile (32 CTAs, 32 stages of 2 KB of B: 64 KB) took 8.4 us. The same tiles at other
# ring depths and widths (main's binary, one consumer), and the M = 1 / 16 gap some tiles showed
# (m16n32 s16 at 7168 x 2048: 10.4 against 7.9 us) swept over M. The split clusters on 64 CTAs
# need no reduce kernel: they are what a faster stream a CTA would make worth shipping.
# INFLIGHT_BIN=build-exp/l2ahead times the same on experiment l2ahead's binary (B streamed into L2
# 128 KB ahead of the ring).
#   bash scripts/experiments/inflight_call.sh OUT_DIR     (on the GPU; carry build-run)
set -u
cd "$(dirname "$0")/../.."
d=${1:?usage: inflight_call.sh OUT_DIR}/inflight
bin=${INFLIGHT_BIN:-build-run}
mkdir -p "$d" && echo "$bin" > "$d/binary.txt"
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
export FP8KIT_CACHE_DIR=$PWD/build-run/jit  # each source hashes to its own entry
# name N,K M-LIST BM,BN,STAGES,WG,CM,CN[,SPLIT[,CLUSTER]]  (B bytes in flight a CTA: stages x block_n x 128)
cands=("n16s8 512,7168 16 16,16,8,1,1,1" "n16s16 512,7168 16 16,16,16,1,1,1" "n16s32 512,7168 16 16,16,32,1,1,1"
  "n32s16 512,7168 16 16,32,16,1,1,1" "n32s32 512,7168 16 16,32,32,1,1,1"
  "n32sk2s28 512,7168 16 16,32,28,1,1,1,2" "n16sk2s14 512,7168 16 16,16,14,1,1,1,2"
  "n32sk4cl 512,7168 1,16 16,32,14,1,1,1,4,1" "n16sk2cl 512,7168 1,16 16,16,28,1,1,1,2,1"
  "n32s16 7168,2048 1,2,4,8,16 16,32,16,1,1,1" "n64s6 7168,2048 1,2,4,8,16 16,64,6,1,1,1")
for c in "${cands[@]}"; do
  read -r name shape ms cfg <<< "$c"
  f=/tmp/inflight/${name}_${shape/,/x}
  args=()
  for m in ${ms//,/ }; do args+=("$m=$cfg"); done
  rm -rf "$f" && python3 scripts/force_gemm_configs.py "$f" "${shape%,*}" "${shape#*,}" "${args[@]}" \
    --device "$gpu_name" > /dev/null || exit 1
  $bin/fp8kit bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --timing cold \
    --batch-sizes ${ms//,/ } --shapes "$shape" --config-dir "$f" --out "$d/${f##*/}" > "$d/${f##*/}.txt" 2>&1 ||
    echo "${f##*/}: failed (see its log)"
done
own=configs/${gpu_name// /_}
[ -d "$own" ] || own=configs/NVIDIA_H200
$bin/fp8kit bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --timing cold --batch-sizes 1 16 \
  --shapes 512,7168 576,7168 1536,7168 7168,2048 --config-dir "$own" --out "$d/shipped" > "$d/shipped.txt" 2>&1
python3 - "$d" << 'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/*/gemm_results.jsonl")):
    for line in open(path):
        r = json.loads(line); p, m = r["params"], r["metrics"]
        us, kernel = m.get("us_median", float("nan")), p.get("kernel", "?").split("bf16_")[-1]
        print(f'{path.split("/")[-2]:22s} M={p["m"]:>2} {us:6.2f} us  {r["status"]}  {kernel}')
PY
