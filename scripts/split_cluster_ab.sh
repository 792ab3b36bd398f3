#!/usr/bin/env bash
# Issue 13's split-cluster A/B in one GPU call (DEVELOPING.md, "Split cluster"): the split GPU tests,
# plain and under compute-sanitizer memcheck (a wrong kernel is not timed), then DeepSeek-V3 TP 8
# decode (M = 1, 16, 64) with the heuristic's configs (A: splits through the workspace) against the
# same configs with every split summed in its cluster (B), cold and graph timing, B / A per cell.
# Usage: scripts/split_cluster_ab.sh FP8KIT_BIN GPU_TESTS_BIN OUT_DIR      (about 5 min on an H200)
set -euo pipefail
bin=$1 tests=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
# A kernel that hangs must not take the call's time: the tests run under a timeout.
timeout 240 "$tests" --gtest_filter='SplitClusterGpu.*:Fp8kitGemmGpu.Split*' > "$out/gpu_tests.log" 2>&1 ||
  { tail -20 "$out/gpu_tests.log"; echo "split GPU tests failed: not timed"; exit 1; }
FP8KIT_UNDER_SANITIZER=1 timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 "$tests" \
  --gtest_filter='SplitClusterGpu.*' > "$out/memcheck.log" 2>&1 ||
  { tail -20 "$out/memcheck.log"; echo "memcheck failed: not timed"; exit 1; }
"$bin" cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 1 16 64 --config-dir none --show-configs \
  > "$out/shown.jsonl"
python3 "$here/split_cluster_twins.py" "$out/shown.jsonl" "$out/twins" | tee "$out/twins.txt"
for timing in cold graph; do
  GEMM_AB_TESTED=1 GEMM_AB_CONFIGS_B="$out/twins/cluster" GEMM_AB_BENCH_ARGS="--timing $timing" \
    "$here/gemm_ab.sh" "$bin" "$bin" "$tests" "$out/twins/workspace" "$out/$timing" 1 16 64 | tee "$out/$timing.txt"
done
