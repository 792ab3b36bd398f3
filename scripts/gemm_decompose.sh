#!/usr/bin/env bash
# Splits the own GEMM's time at each cell into the block scales, the promotion and the pipeline
# around them, beside DeepGEMM, for the GPU machine (DEVELOPING.md, "Splitting a GEMM's time").
# Usage: scripts/gemm_decompose.sh FP8KIT_BIN PEERS_DIR CONFIG_DIR OUT_DIR "N,K N,K ..." "M M ..."
#   PEERS_DIR  a copy of ../shared/peers (DeepGEMM is built here when DG_ROOT has no build yet)
#   CONFIG_DIR block-scaled tuned configs (configs/NVIDIA_H200)
# Each cell runs one tile, the block-scaled config of the shape, four ways in one process order:
#   block  group128 x block128 (what ships);
#   unit   tensor x tensor, exact: the same promotion with unit factors, no scale loads;
#   fast   tensor x tensor, fast accumulation: no promotion, the tensor cores accumulate all of K
#          (a tile that is invalid unpromoted, two 64-row slices wider than 112 such as m256n128,
#          runs the nearest M's tile of the file instead: compare those cells with care);
#   block2 block again (the noise floor), then cuBLASLt's tensor x tensor fast-accumulation kernel
#   and DeepGEMM. OUT_DIR/decompose.txt is the table (scripts/gemm_decompose.py).
set -uo pipefail
bin=$1 peers=$2 configs=$3 out=$4 shapes=$5 ms=$6
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
export DG_ROOT=${DG_ROOT:-/tmp/dg} DG_JIT_CACHE_DIR=${DG_JIT_CACHE_DIR:-/tmp/dgcache}
[ -d "$DG_ROOT" ] || bash "$peers/build_dg.sh" > "$out/dg_build.log" 2>&1 &
# One directory with the block files and their tiles retagged to tensor x tensor.
dir="$out/configs"
mkdir -p "$dir" && cp "$configs"/fp8kit_w8a8_block128x128_*.json "$dir"/
python3 "$here/retag_tuned_configs.py" "$configs" "$dir" --mode-a tensor --mode-b tensor > /dev/null || exit 1
# shellcheck disable=SC2086
common=(--shapes $shapes --batch-sizes $ms --config-dir "$dir" --seed 7)
bench() {  # NAME ARGS...: one bench gemm run into OUT_DIR/NAME.jsonl
  local name=$1
  shift
  "$bin" bench gemm "${common[@]}" "$@" --out "$out/run_$name" > "$out/$name.log" 2>&1
  echo "$name: exit $?" >> "$out/steps.txt"
  cp "$out/run_$name/gemm_results.jsonl" "$out/$name.jsonl" 2>/dev/null
}
block=fp8-block-w-group-a-noquant tensor=fp8-tensor-w-tensor-a-noquant
bench warm --providers "$block,$tensor" --backends fp8kit  # compiles (timings discarded)
bench warm_fast --providers "$tensor" --backends fp8kit --fast-accum
wait  # DeepGEMM's build ran beside the compiles, not beside a timing
bench block --providers "$block" --backends fp8kit
bench unit --providers "$tensor" --backends fp8kit
bench fast --providers "$tensor" --backends fp8kit --fast-accum
bench block2 --providers "$block" --backends fp8kit
bench cublaslt_fast --providers "$tensor" --backends cublaslt --fast-accum
# shellcheck disable=SC2086
python3 "$peers/peers_gemm.py" --shapes $shapes --batch-sizes $ms --peers deepgemm --out "$out/peers.jsonl" \
  > "$out/peers.log" 2>&1
echo "peers: exit $?" >> "$out/steps.txt"
# A tensor run that missed its retagged file says so ("tuned configs: none for ..."): it ran the heuristic.
grep -h "tuned configs:" "$out"/unit.log "$out"/fast.log >> "$out/steps.txt"
python3 "$here/gemm_decompose.py" "$out" | tee "$out/decompose.txt"
