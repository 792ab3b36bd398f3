#!/usr/bin/env bash
# Session 46 probe (issue 13): the GEMM's decode weight stream without its MMAs (tma_stream.cu),
# at the tiles whose speed does not follow their ring depth.
#   bash scripts/experiments/tma_stream_call.sh OUT_DIR   (GPU machine, from the repo root)
set -u
d=${1:?usage: tma_stream_call.sh OUT_DIR}/tma_stream
mkdir -p "$d"
here=$(cd "$(dirname "$0")" && pwd)
"${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" -O3 -std=c++17 -arch=sm_90a "$here/tma_stream.cu" -o /tmp/tma_stream \
  > "$d/nvcc.log" 2>&1 || { cat "$d/nvcc.log"; exit 1; }
# N K BN S AROWS: 32 CTAs of m16n16 at 512 x 7168 (A of 16 rows, then 1), 64 and 112 CTAs, and the
# 7168 x 2048 m16n32 tile whose M = 1 runs 2 us slower than M = 16.
for a in "512 7168 16 1 16" "512 7168 16 1 1" "512 7168 16 2 16" "512 7168 32 7 16" "7168 2048 32 1 16" \
  "7168 2048 32 1 1"; do
  # shellcheck disable=SC2086  # five numbers
  timeout 60 /tmp/tma_stream $a
done > "$d/tma_stream.txt" 2>&1
cat "$d/tma_stream.txt"
# The GEMM at the same tiles in the same call (build-run carried with its jit cache).
[ -x build-run/fp8kit ] || exit 0
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
export FP8KIT_CACHE_DIR=$PWD/build-run/jit
for c in "512 7168 16 16,16,16,1,1,1" "7168 2048 1,16 16,32,16,1,1,1"; do
  read -r n k ms cfg <<< "$c"
  f=/tmp/tma_stream_cfg/${n}x$k args=()
  for m in ${ms//,/ }; do args+=("$m=$cfg"); done
  rm -rf "$f" && python3 scripts/force_gemm_configs.py "$f" "$n" "$k" "${args[@]}" --device "$gpu" > /dev/null &&
    build-run/fp8kit bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --timing cold \
      --shapes "$n,$k" --batch-sizes ${ms//,/ } --config-dir "$f" --out "$d/gemm_${n}x$k" > "$d/gemm_${n}x$k.txt" 2>&1
  python3 -c 'import csv,sys; [print("GEMM", r["n"], r["k"], "M", r["m"], r["kernel"][-28:], round(float(r["us_median"]), 2), "us") for r in csv.DictReader(open(sys.argv[1]))]' "$d/gemm_${n}x$k/gemm_results.csv"
done
