#!/usr/bin/env bash
# Issue 17's run on a multi-GPU machine (DEVELOPING.md, "Tuning on several GPUs"): one reduced plan
# tuned on GPU 0, on every GPU (--gpus) and through a one-node Ray cluster, then each run's chosen
# configs timed back to back on GPU 0 against the one-GPU run's, then a planted faulting candidate.
# Usage: scripts/multi_gpu_tune_check.sh FP8KIT_BIN RAY_SITE OUT_DIR
#   RAY_SITE  a folder Ray 2.60 is importable from by this machine's python3 (pip install --target),
#             or "none" to leave the Ray run out
# FAKE_GPUS=N runs every tune with fake workers on N slots and leaves out the timing (a CPU check of
# this script). Prints wall times, speed-ups, restarts and the choices' TFLOP/s ratios.
set -uo pipefail
bin=$(realpath "$1") ray_site=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
fail() { echo "multi_gpu_tune_check: FAILED: $*"; exit 1; }
plan=(--shapes 7168,2048 2112,7168 576,7168 24576,7168 --batch-sizes 1 16 64 512 2048 4096)
fake=() fault_fake=()
if [ -n "${FAKE_GPUS:-}" ]; then
  gpus=$FAKE_GPUS
  fake=(--fake-worker "sleep-ms=5")
  fault_fake=(--fake-worker "crash=_s3_wg2")  # a fake worker's fault is a crash
else
  gpus=$(nvidia-smi -L | grep -c '^GPU')
fi
[ "$gpus" -ge 2 ] || fail "$gpus GPU(s): this check needs at least 2"
all=$(seq -s, 0 $((gpus - 1)))

tune() {  # NAME ARGS...: a timed tune into OUT_DIR/NAME, its log OUT_DIR/NAME.log
  local name=$1 t0
  shift
  rm -rf "${out:?}/$name"
  t0=$(date +%s.%N)
  "$bin" tune "${plan[@]}" "${fake[@]}" --save-path "$out/$name" "$@" > "$out/$name.log" 2>&1 || fail "$name exited $?"
  echo "$name $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')" >> "$out/walls.txt"
  grep '^# .* s of searches' "$out/$name.log" | sed "s/^/$name: /"
}
: > "$out/walls.txt"
tune warm --gpus "$all"  # fills the JIT cache, so no later run compiles
tune one --gpus 0
tune all --gpus "$all"
if [ "$ray_site" != none ]; then
  export PYTHONPATH="$ray_site:$(dirname "$here")/python${PYTHONPATH:+:$PYTHONPATH}" FP8KIT_RAY_PYTHON=python3
  ray=(python3 -m ray.scripts.scripts)
  resources=(--num-gpus "$gpus")
  [ -n "${FAKE_GPUS:-}" ] && resources=(--num-gpus 0 --resources "{\"slot\": $gpus}")
  "${ray[@]}" start --head --node-ip-address 127.0.0.1 --port 6390 --include-dashboard false \
    --disable-usage-stats "${resources[@]}" > "$out/ray_start.log" 2>&1 || fail "ray start (see ray_start.log)"
  ray_args=(--ray 127.0.0.1:6390)
  [ -n "${FAKE_GPUS:-}" ] && ray_args+=(--ray-resource slot)
  tune ray "${ray_args[@]}"
  "${ray[@]}" stop --force > /dev/null 2>&1
fi
python3 - "$out" <<'PY' || fail "files"
import glob, json, os, sys
out = sys.argv[1]
def files(run):
    return {os.path.basename(p): json.load(open(p)) for p in glob.glob(os.path.join(out, run, "*.json"))}
one = files("one")
for run in ("all", "ray"):
    if not os.path.isdir(os.path.join(out, run)):
        continue
    other = files(run)
    assert sorted(other) == sorted(one), f"{run}: files {sorted(other)} against {sorted(one)}"
    for name, f in other.items():
        assert sorted(f) == sorted(one[name]), f"{run}/{name}: keys differ"
    print(f"{run}: {len(other)} files, each with the one-GPU run's keys (every M)")
PY
awk '{t[$1] = $2} END {printf "wall s: one %s, all %s (%.2fx)", t["one"], t["all"], t["one"] / t["all"];
     if ("ray" in t) printf ", ray %s (%.2fx)", t["ray"], t["one"] / t["ray"]; print ""}' "$out/walls.txt"

if [ -z "${FAKE_GPUS:-}" ]; then
  # Each run's choices, timed back to back on GPU 0 (graph timing), over the one-GPU run's.
  for run in one all ray; do
    [ -d "$out/$run" ] || continue
    CUDA_VISIBLE_DEVICES=0 "$bin" bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit \
      "${plan[@]}" --config-dir "$out/$run" --out "$out/bench_$run" > "$out/bench_$run.log" 2>&1 ||
      fail "bench of $run's configs exited $?"
  done
  python3 - "$out" <<'PY'
import json, math, os, sys
out = sys.argv[1]
def tflops(run):
    rows = {}
    for line in open(os.path.join(out, f"bench_{run}", "gemm_results.jsonl")):
        r = json.loads(line); p = r["params"]
        if r.get("status") == "ok":
            rows[(p["n"], p["k"], p["m"])] = r["metrics"]["tflops_median"]
    return rows
one = tflops("one")
for run in ("all", "ray"):
    if not os.path.exists(os.path.join(out, f"bench_{run}")):
        continue
    ratios = {key: v / one[key] for key, v in tflops(run).items() if key in one}
    g = math.exp(sum(map(math.log, ratios.values())) / len(ratios))
    worst = min(ratios, key=ratios.get)
    outside = [k for k, r in ratios.items() if abs(r - 1) > 0.02]
    print(f"{run} / one: geomean {g:.3f}, min {ratios[worst]:.3f} at N,K,M {','.join(worst)}, max "
          f"{max(ratios.values()):.3f}, {len(outside)} of {len(ratios)} cells outside 2%: {outside}")
PY
fi

# A planted faulting candidate restarts only the worker that hit it; the run goes on.
FP8KIT_TUNE_PLANT_FAULT=_s3_wg2 "$bin" tune --shapes 7168,2048 2112,7168 --batch-sizes 2048 4096 "${fault_fake[@]}" \
  --gpus "$all" --save-path "$out/fault" > "$out/fault.log" 2>&1 || fail "the planted-fault tune exited $?"
grep -E '"kernel_name": "[^"]*_s3_wg2' "$out/fault"/*.json && fail "a faulting candidate was chosen"
echo "planted fault: $(grep -o '[0-9]* worker restart(s)' "$out/fault.log" | tail -1), rc 0, $(ls "$out/fault"/*.json | wc -l) files"
echo "multi_gpu_tune_check: done"
