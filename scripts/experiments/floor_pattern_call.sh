#!/usr/bin/env bash
# Pending call 9 (issue 13): decode's weight stream against plain reads of the same bytes
# (floor_pattern.cu), beside the cold GEMM of the same shapes on the shipped configs.
#   scripts/experiments/floor_pattern_call.sh FP8KIT CONFIG_DIR OUT_DIR   (from the repo root)
set -u
B=$1 own=$2 d=$3
here=$(cd "$(dirname "$0")" && pwd)
"${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" -O3 -std=c++17 -arch=sm_90a "$here/floor_pattern.cu" -o /tmp/floor_pattern \
  > "$d/nvcc.log" 2>&1 || { cat "$d/nvcc.log"; exit 1; }
# N K BN S: the shipped tiles (96-128 CTAs), then 512 x 7168 on 16 / 32 / 64 blocks: can so few stream it?
for a in "512 7168 32 7" "576 7168 32 7" "1536 7168 96 8" "7168 2048 64 1" "3072 7168 128 4" "512 7168 32 1" \
  "512 7168 16 1" "512 7168 16 2"; do
  # shellcheck disable=SC2086  # four numbers
  /tmp/floor_pattern $a
done > "$d/floor_pattern.txt" 2>&1
"$B" bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --batch-sizes 1 16 --timing cold \
  --shapes 512,7168 576,7168 1536,7168 7168,2048 3072,7168 --config-dir "$own" --out "$d/gemm" > "$d/gemm.txt" 2>&1
cat "$d/floor_pattern.txt"
