#!/usr/bin/env bash
# The GPU machine's side of the workflow in docs/DEVELOPING.md: runs the GPU suite (whose tests run
# each case twice and require identical bits), `fp8kit info --measure` and the suite under
# compute-sanitizer, plus the tuner's GPU checks (scripts/gpu_tune_check.sh), over a build made on a
# CPU machine and carried over.
# Usage: scripts/gpu_suite.sh [BUILD_DIR]   (default build/release, or a slim folder holding
# fp8kit and fp8kit_gpu_tests); logs go to $OUT when set.
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
out="${OUT:-/tmp/fp8kit-gpu-suite}"
mkdir -p "$out"

# ctest's files hold the build machine's absolute source path: make it resolve here too.
if [ -f "$build/CMakeCache.txt" ]; then
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
  if [ -n "$src" ] && [ "$src" != "$PWD" ] && [ ! -e "$src" ]; then
    mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"
  fi
fi

status=0
step() {  # step NAME COMMAND...: runs, logs to $out/NAME.log, remembers a failure
  local name=$1; shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc"
  [ "$rc" -eq 0 ] || status=1
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
if [ -f "$build/CTestTestfile.cmake" ]; then
  step gpu-ctest ctest --test-dir "$build" -L gpu --output-on-failure
else  # a slim folder with the binaries only (docs/DEVELOPING.md): the same suite, run directly
  step gpu-tests "$build/fp8kit_gpu_tests" --gtest_brief=1
fi
step info-measure "$build/fp8kit" info --measure
step tune-check scripts/gpu_tune_check.sh "$build"  # tiny tune, planted fault, resume
export FP8KIT_UNDER_SANITIZER=1  # timing bounds do not hold for instrumented kernels
# No --leak-check: cuBLASLt workspaces (32 MiB per stream that ran a GEMM) are held until exit on
# purpose, so that a captured graph never points at freed memory; they show up as leaks.
step sanitizer compute-sanitizer --tool memcheck --error-exitcode 9 "$build/fp8kit_gpu_tests" --gtest_brief=1 \
  --gtest_filter='-ScaledMmPerf.*'  # timings mean nothing instrumented
exit $status
