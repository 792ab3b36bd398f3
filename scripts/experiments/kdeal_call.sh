#!/usr/bin/env bash
# Experiment kdeal (issue 13; scripts/experiments/kdeal.patch): a 16- / 32-row decode tile with two
# consumer warpgroups deals them its K blocks (each takes every row and every other K block; the
# second's sum is added through shared memory), so a tile that takes all of K pays half the K chain
# and no cross-CTA split: at 512 x 7168, 16-32 CTAs each read 7 KB rows whole (contiguous).
# Cold, M = 1 / 16, beside the shipped configs on both binaries and the one-consumer twins.
#   bash scripts/experiments/build_exp.sh kdeal && bash scripts/experiments/kdeal_call.sh prepare
#   bash scripts/experiments/kdeal_call.sh OUT_DIR        (on the GPU; carry build-run, build-exp/kdeal)
set -u
cd "$(dirname "$0")/../.."
here=scripts/experiments X=build-exp/kdeal
# name N,K BM,BN,STAGES,WG,CM,CN[,SPLIT[,CLUSTER]]: two consumers (wg 2) beside one (wg 1). Call 9
# (session 45) read 512 x 7168 in 3.7-4.0 us on 32 blocks and 2.7-2.9 on 64: so the splits of 2-4,
# summed in the cluster (no partials in HBM, no second grid) as well as through the workspace.
# Most telling first (a call cut short keeps them).
cands=("n16sk2cl 512,7168 16,16,28,2,1,1,2,1" "n16sk2cl_wg1 512,7168 16,16,28,1,1,1,2,1"
  "n32sk4cl 512,7168 16,32,14,2,1,1,4,1" "n32sk4cl_wg1 512,7168 16,32,14,1,1,1,4,1"
  "n32sk7 512,7168 16,32,8,2,1,1,7" "n16sk2 512,7168 16,16,28,2,1,1,2"
  "n16sk2cl 576,7168 16,16,28,2,1,1,2,1" "n32sk4cl 576,7168 16,32,14,2,1,1,4,1"
  "n32sk2cl 1536,7168 16,32,28,2,1,1,2,1" "n64sk4cl 1536,7168 16,64,14,2,1,1,4,1"
  "n64 7168,2048 16,64,8,2,1,1" "n16all 512,7168 16,16,32,2,1,1" "n16all_wg1 512,7168 16,16,32,1,1,1"
  "n16sk4cl 512,7168 16,16,14,2,1,1,4,1" "n16sk2_wg1 512,7168 16,16,28,1,1,1,2" "n32 7168,2048 16,32,16,2,1,1")
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2> /dev/null | head -1)
gpu_name=${gpu_name:-NVIDIA H200}
folder() { echo "/tmp/kdeal/$1_${2//,/x}"; }
for c in "${cands[@]}"; do
  read -r name shape cfg <<< "$c"
  f=$(folder "$name" "$shape")
  rm -rf "$f" && python3 $here/../force_gemm_configs.py "$f" "${shape%,*}" "${shape#*,}" 1="$cfg" 16="$cfg" \
    --device "$gpu_name" > /dev/null || exit 1
done
if [ "${1:-}" = prepare ]; then  # compile the shipped configs and the candidates into the experiment's cache
  for dev in "NVIDIA H200" "NVIDIA H100 80GB HBM3"; do
    FP8KIT_CACHE_DIR=$PWD/$X/jit $X/fp8kit cache warm --device-name "$dev" --model deepseek-ai/DeepSeek-V3 --tp 8 \
      --batch-sizes 1 16 --config-dir "configs/${dev// /_}" | tail -1
  done
  for c in "${cands[@]}"; do
    read -r name shape cfg <<< "$c"
    FP8KIT_CACHE_DIR=$PWD/$X/jit $X/fp8kit cache warm --device-name "$gpu_name" --model deepseek-ai/DeepSeek-V3 \
      --tp 8 --batch-sizes 1 16 --config-dir "$(folder "$name" "$shape")" 2>&1 | grep -v "warning: tuned configs"
  done
  exit 0
fi
d=${1:?usage: kdeal_call.sh OUT_DIR | prepare}/kdeal
mkdir -p "$d"
own=configs/${gpu_name// /_}
[ -d "$own" ] || own=configs/NVIDIA_H200
gemm=(bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --batch-sizes 1 16 --timing cold)
shapes=(--shapes 512,7168 576,7168 1536,7168 7168,2048)
# the shipped configs on main's binary, the candidates, then the shipped configs on the experiment's
# binary (its wg1 kernels are main's: ~1.00); KDEAL_LIMIT seconds cut the candidates short.
FP8KIT_CACHE_DIR=$PWD/build-run/jit build-run/fp8kit "${gemm[@]}" "${shapes[@]}" --config-dir "$own" --out "$d/main" \
  > "$d/main.txt" 2>&1
export FP8KIT_CACHE_DIR=$PWD/$X/jit
end=$(( $(date +%s) + ${KDEAL_LIMIT:-600} ))
for c in "${cands[@]}"; do
  [ "$(date +%s)" -lt "$end" ] || { echo "KDEAL_LIMIT reached before $c"; break; }
  read -r name shape cfg <<< "$c"
  f=$(folder "$name" "$shape")
  $X/fp8kit "${gemm[@]}" --shapes "$shape" --config-dir "$f" --out "$d/${f##*/}" > "$d/${f##*/}.txt" 2>&1 ||
    echo "${f##*/}: failed (see its log)"
done
[ "$(date +%s)" -lt "$end" ] && $X/fp8kit "${gemm[@]}" "${shapes[@]}" --config-dir "$own" --out "$d/exp" > "$d/exp.txt" 2>&1
python3 - "$d" << 'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/*/gemm_results.jsonl")):
    for line in open(path):
        r = json.loads(line); p, m = r["params"], r["metrics"]
        us, kernel = m.get("us_median", float("nan")), p.get("kernel", "?").split("bf16_")[-1]
        print(f'{path.split("/")[-2]:24s} {p["n"]:>5}x{p["k"]} M={p["m"]:>2} {us:7.2f} us  {r["status"]}  {kernel}')
PY
