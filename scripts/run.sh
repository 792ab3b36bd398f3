#!/usr/bin/env bash
# Set-up, build, then the main job: `fp8kit bench gemm` on the default model (Llama-3.1-8B-Instruct,
# TP 1), after `fp8kit info`. Without a GPU the benchmark exits 3 with a clear message. Extra
# arguments replace the default command.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
if [ $# -gt 0 ]; then
  exec build/release/fp8kit "$@"
fi
build/release/fp8kit info
exec build/release/fp8kit bench gemm
