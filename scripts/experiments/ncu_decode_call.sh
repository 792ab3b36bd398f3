#!/usr/bin/env bash
# Session 46 probe (issue 13): where a few-CTA decode GEMM waits. Session 46's inflight call found
# the 32-CTA m16n16 tile at 512 x 7168 takes 8.2-8.4 us at ring depths 8, 16 and 32 (16-64 KB of B
# in flight) and with B streamed into L2 ahead: about 146 ns a K block, whatever is in flight. So
# something serial costs ~290 cycles a K block. ncu's per-instruction stall samples (--set full,
# caches flushed, base clock) of that tile, its 8-stage twin, the shipped sk7 tile, and the
# 7168 x 2048 m16n32 tile at M = 1 and 16 (M = 1-4 run 2 us slower than M = 8-16 there).
#   bash scripts/experiments/ncu_decode_call.sh OUT_DIR   (GPU; carry build-run with its jit cache)
# Read: scripts/ncu_stalls.py OUT_DIR/ncu_decode/*.src.csv
set -u
cd "$(dirname "$0")/../.."
export FP8KIT_CACHE_DIR=$PWD/build-run/jit
d=${1:?usage: ncu_decode_call.sh OUT_DIR}/ncu_decode
mkdir -p "$d"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
own=configs/${gpu// /_}
[ -d "$own" ] || own=configs/NVIDIA_H200
# name N,K M CONFIG (BM,BN,STAGES,WG,CM,CN[,SPLIT[,CLUSTER]], or "shipped")
cells=("n16s16 512,7168 16 16,16,16,1,1,1" "n16s8 512,7168 16 16,16,8,1,1,1" "shipped 512,7168 16 shipped"
  "n32s16m1 7168,2048 1 16,32,16,1,1,1" "n32s16m16 7168,2048 16 16,32,16,1,1,1")
for c in "${cells[@]}"; do
  read -r name shape m cfg <<< "$c"
  dir=$own
  if [ "$cfg" != shipped ]; then
    dir=/tmp/ncu_decode/$name
    rm -rf "$dir" && python3 scripts/force_gemm_configs.py "$dir" "${shape%,*}" "${shape#*,}" "$m=$cfg" \
      --device "$gpu" > /dev/null || continue
  fi
  timeout 150 ncu --kernel-name fp8kit_sm90_gemm --set full --launch-skip 1 --launch-count 1 -o "$d/$name" \
    build-run/fp8kit bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --shapes "$shape" \
    --batch-sizes "$m" --config-dir "$dir" --timing graph > "$d/$name.log" 2>&1
  ncu -i "$d/$name.ncu-rep" --page source --print-source sass --csv > "$d/$name.src.csv" 2>&1
  ncu -i "$d/$name.ncu-rep" --page details > "$d/$name.details.txt" 2>&1
  rm -f "$d/$name.ncu-rep"
  grep -E "Duration|Elapsed Cycles|SM Frequency" "$d/$name.details.txt" | sed "s/^/$name /"
done
