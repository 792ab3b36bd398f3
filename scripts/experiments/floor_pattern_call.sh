#!/usr/bin/env bash
# Pending call 9 (issue 13): decode's weight stream against plain reads of the same bytes
# (floor_pattern.cu), beside the cold GEMM of the same shapes on the shipped configs, and 512 x 7168
# on the existing kernel with few CTAs that each take all of K (16 / 32 SMs) or half (64): what a
# decode GEMM without a split across CTAs pays in its K chain.
#   scripts/experiments/floor_pattern_call.sh FP8KIT CONFIG_DIR GPU_NAME OUT_DIR   (from the repo root)
set -u
B=$1 own=$2 gpu_name=$3 d=$4
here=$(cd "$(dirname "$0")" && pwd)
"${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" -O3 -std=c++17 -arch=sm_90a "$here/floor_pattern.cu" -o /tmp/floor_pattern \
  > "$d/nvcc.log" 2>&1 || { cat "$d/nvcc.log"; exit 1; }
# N K BN S: the shipped tiles (96-128 CTAs), then 512 x 7168 on 16 / 32 / 64 blocks: can so few stream it?
for a in "512 7168 32 7" "576 7168 32 7" "1536 7168 96 8" "7168 2048 64 1" "3072 7168 128 4" "512 7168 32 1" \
  "512 7168 16 1" "512 7168 16 2"; do
  # shellcheck disable=SC2086  # four numbers
  /tmp/floor_pattern $a
done > "$d/floor_pattern.txt" 2>&1
gemm=(bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --batch-sizes 1 16 --timing cold)
"$B" "${gemm[@]}" --shapes 512,7168 576,7168 1536,7168 7168,2048 3072,7168 --config-dir "$own" --out "$d/gemm" \
  > "$d/gemm.txt" 2>&1
# BM,BN,STAGES,WG,CM,CN[,SPLIT]: m16n32 and m16n16 with all of K (16 / 32 CTAs), m16n16 sk2 (64)
for c in 16,32,32,1,1,1 16,16,32,1,1,1 16,16,28,1,1,1,2; do
  f=/tmp/few/${c//,/_}
  rm -rf "$f" && python3 "$here/../force_gemm_configs.py" "$f" 512 7168 1="$c" 16="$c" --device "$gpu_name" > /dev/null &&
    "$B" "${gemm[@]}" --shapes 512,7168 --config-dir "$f" --out "$d/few_${c//,/_}" > "$d/few_${c//,/_}.txt" 2>&1
done
cat "$d/floor_pattern.txt"
grep -h -A3 "^ M  fp8" "$d"/few_*.txt | grep -v "^--" | head -12
