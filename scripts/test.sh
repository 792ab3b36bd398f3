#!/usr/bin/env bash
# Set-up, build, test: the whole check a fresh clone needs. On a machine without a GPU the GPU
# suite reports SKIP. Extra arguments go to ctest (e.g. `scripts/test.sh -L gpu`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
preset="${FP8KIT_PRESET:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)" "$@"
