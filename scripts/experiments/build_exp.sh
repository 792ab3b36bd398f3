#!/usr/bin/env bash
# Builds main with scripts/experiments/NAME.patch into build-exp/NAME (fp8kit, fp8kit_gpu_tests, the
# patch, the last commit that changed what is built), in a worktree at /tmp/fp8kit-NAME (~3-5 min on
# 2 cores); nothing when the folder already holds this patch on that commit (commits to scripts/,
# docs/ or configs/ alone rebuild nothing). pending_calls.sh's EXP=NAME prepare calls it; so can an
# experiment's own call script (session 42's split_tagged_call.sh did).
#   bash scripts/experiments/build_exp.sh NAME
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root: the paths below are relative to it
name=${1:?usage: build_exp.sh NAME}
patch=scripts/experiments/$name.patch out=build-exp/$name wt=/tmp/fp8kit-$name
[ -e "$patch" ] || { echo "no experiment $patch" >&2; exit 1; }
base=$(git log -1 --format=%H -- . ':!scripts' ':!docs' ':!configs')
cmp -s "$patch" "$out/$name.patch" && [ "$(cat "$out/base" 2> /dev/null)" = "$base" ] && exit 0
git worktree remove --force "$wt" 2> /dev/null || true
rm -rf "$wt" "$out"
git worktree add --detach "$wt" HEAD > /dev/null
git -C "$wt" apply "$PWD/$patch"
(cd "$wt" && cmake --preset release > /dev/null &&
  cmake --build --preset release -j2 --target fp8kit fp8kit_gpu_tests) > /dev/null
mkdir -p "$out"
cp "$wt"/build/release/{fp8kit,fp8kit_gpu_tests} "$patch" "$out/"
echo "$base" > "$out/base"
