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
# The Python package, built into the venv from the same build folder (only its extension compiles),
# then its CPU tests.
pyenv="${FP8KIT_PYENV:-build/pyenv}"
build_type=Release
[ "$preset" = debug ] && build_type=Debug
"$pyenv/bin/pip" install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps \
  -Cbuild-dir="build/$preset" -Ccmake.build-type="$build_type" -Ccmake.define.FP8KIT_BUILD_TOOLS=ON .
# FP8KIT_REQUIRE_RAY: the Ray tests fail rather than skip when setup.sh's Ray is missing.
(cd tests/python && FP8KIT_CLI="$PWD/../../build/$preset/fp8kit" FP8KIT_REQUIRE_RAY=1 FP8KIT_REQUIRE_SASS=1 "../../$pyenv/bin/python" -m pytest -q .)
