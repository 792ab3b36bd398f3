#!/usr/bin/env bash
# Set-up, build, then the main job. Until `fp8kit bench gemm` lands that is `fp8kit info`
# (device, library versions, measured ceilings). Extra arguments replace the default command.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
if [ $# -gt 0 ]; then
  exec build/release/fp8kit "$@"
fi
exec build/release/fp8kit info
