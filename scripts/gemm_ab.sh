#!/usr/bin/env bash
# A/B of two fp8kit builds' block-scaled GEMM in one GPU call (a kernel change against its base):
# B's GEMM GPU tests first (a wrong kernel is not timed), then `bench gemm` of A and of B with the
# same configs on DeepSeek-V3 TP 8, then the per-cell ratio B / A and its geometric mean by M.
# Usage: scripts/gemm_ab.sh A_BIN B_BIN B_GPU_TESTS CONFIG_DIR OUT_DIR [M ...]   (M: 128 512 2048 4096)
#   CONFIG_DIR: tuned configs (both builds run the same ones), or none for each build's heuristic.
# Compare only inside one call: the two benches run back to back on one GPU.
# GEMM_AB_TESTED=1 skips B's GPU tests (they passed earlier in the same call on the same binary).
# GEMM_AB_CONFIGS_B=DIR gives B other configs than A (a knob's A/B on one binary: A_BIN = B_BIN);
# GEMM_AB_ENV_B="VAR=1 ..." sets environment variables for B's tests and bench only (an experiment
# switch read when the kernel source is generated: A_BIN = B_BIN, one JIT cache entry per variant);
# GEMM_AB_MODEL_ARGS replaces "--models deepseek-ai/DeepSeek-V3 --tp-sizes 8";
# GEMM_AB_BENCH_ARGS adds flags to both benches (--timing cold, say); GEMM_AB_PROVIDERS replaces
# fp8-block-w-group-a-noquant (fp8-block-w-group-a times fp8kit::linear: quantization + GEMM).
set -euo pipefail
a=$1 b=$2 tests=$3 configs=$4 out=$5
shift 5
ms=("$@")
[ ${#ms[@]} -gt 0 ] || ms=(128 512 2048 4096)
mkdir -p "$out"
if [ -z "${GEMM_AB_TESTED:-}" ]; then
  # shellcheck disable=SC2086  # GEMM_AB_ENV_B is a list of assignments
  env ${GEMM_AB_ENV_B:-} "$tests" --gtest_filter='Fp8kitGemmGpu.*:ScaledMmGpu.*' > "$out/b_gpu_tests.log" 2>&1 ||
    { tail -20 "$out/b_gpu_tests.log"; echo "B's GPU tests failed: not timed"; exit 1; }
fi
for side in a b; do
  bin=$a dir=$configs vars=
  [ $side = b ] && bin=$b dir=${GEMM_AB_CONFIGS_B:-$configs} vars=${GEMM_AB_ENV_B:-}
  # shellcheck disable=SC2086  # GEMM_AB_BENCH_ARGS and vars are lists
  env $vars "$bin" bench gemm --providers "${GEMM_AB_PROVIDERS:-fp8-block-w-group-a-noquant}" --backends fp8kit ${GEMM_AB_MODEL_ARGS:---models deepseek-ai/DeepSeek-V3 --tp-sizes 8} \
    --batch-sizes "${ms[@]}" --config-dir "$dir" ${GEMM_AB_BENCH_ARGS:-} --out "$out/$side" > "$out/$side.log" 2>&1
done
python3 - "$out" <<'PY'
import json, math, sys, collections
def load(path):
    r, kernels = {}, {}
    for line in open(path):
        d = json.loads(line)
        q = d["params"]
        if d["status"] == "ok" and q["backend"] == "fp8kit":
            key = (int(q["n"]), int(q["k"]), int(q["m"]))
            r[key] = d["metrics"]["tflops_median"]
            kernels[key] = q.get("kernel", "").split("_m", 1)[-1]  # the tile part of the name
    return r, kernels
a, ka = load(f"{sys.argv[1]}/a/gemm_results.jsonl")
b, kb = load(f"{sys.argv[1]}/b/gemm_results.jsonl")
by_m = collections.defaultdict(list)
for key in sorted(a.keys() & b.keys()):
    by_m[key[2]].append(b[key] / a[key])
    tiles = f"  m{ka[key]} / m{kb[key]}" if ka[key] != kb[key] else ""
    print(f"{key[0]:6d} {key[1]:6d} {key[2]:5d}  A {a[key]:7.1f}  B {b[key]:7.1f}  B/A {b[key] / a[key]:.3f}{tiles}")
geo = lambda v: math.exp(sum(map(math.log, v)) / len(v))
for m, v in sorted(by_m.items()):
    print(f"M={m}: B/A geomean {geo(v):.3f} over {len(v)} (min {min(v):.3f}, max {max(v):.3f})")
allv = [x for v in by_m.values() for x in v]
print(f"all: B/A geomean {geo(allv):.3f} over {len(allv)}")
PY
