#!/usr/bin/env bash
# The prepared device calls of docs/PERF.md's session 23 entry ("next"), one per invocation (issues
# 12, 13), so that a session lent a GPU spends it measuring. On the CPU machine first:
#   cmake --preset release && cmake --build --preset release -j2
#   mkdir -p build-run && cp build/release/{fp8kit,fp8kit_gpu_tests} build-run/ && cp -r ../shared/peers build-peers
#   bash scripts/pending_calls.sh prepare     (the candidate configs, every kernel into the JIT cache)
# Then one device call each, carrying build-run build-peers (call 7: build-run build-exp), OUT = the
# call's $OUT; wrap each as
#   timeout 570 bash scripts/pending_calls.sh N $OUT; [ -d $OUT/callN ] && tar czf $OUT/callN.tgz -C $OUT callN
# so that a call cut by its limit still brings back one archive (never tar callN unguarded: the
# call archives and removes it itself; session 36 lost a call so). The order, per GPU, is
# scripts/device_next.sh's lists: one device call runs the next calls of whichever GPU came (a call
# naming nvidia-h200 often gets an H100). Not on them: EXP=holds_rows_uniform DECODE=1 7 on an H100
# (the 16 / 32-row tiles cold; its build-exp carry cannot travel with build-peers). Calls 1, 4-9
# take the running GPU's own folder where there is one (an H100's).
# With under ~8 min of budget: GEMM_TESTS='GemmConfigsExactGpu.*' HEURISTIC= BATCHES="512 2048" 1.
#   0: every GEMM GPU test (call 1 runs the exact tier only), DeepGEMM built beside them (~6 min)
#      (CONFIGS=DIR: the tests' configs, and call 1's instead of the shipped ones)
#   1: issue 12 on the shipped configs: the exact tier (every shipped config, the stratified sample,
#      the split clusters), then the side by side at M >= 128, shipped and heuristic alone, with
#      cuBLASLt in the bench and the kit's DeepGEMM, compare.py for both (~8 min)
#   2: issue 12, ncu of both kernels on DeepGEMM's tiles (3072 x 7168 M = 512 m128n96, 1536 x 7168
#      M = 2048 m128n192 s4): base clock and caches flushed, then warm with --source stall samples
#      for ncu_stalls.py (~8 min)
#   3: issue 13, token x channel after the 96 / 112 decode widths: Llama-3.1-8B and Qwen2.5-7B,
#      cold, M = 1 / 16 / 64, heuristic alone and shipped configs, against bf16 and cuBLASLt (~4 min)
#   4: issue 12, the tune at M = 2048 / 4096 (TUNE_MS="128 512": there) timed as the bench times
#      (`tune --bench-timing`, 300 s; each search starts from the shipped config), merged into a
#      copy of the shipped files and benched against them (~9 min); DECODE=1: the cold decode tune
#      at M = 1 / 16 / 64, benched cold (plain cold since session 40: picks tuned with --b-is-weight
#      lost 2-8% plain cold, the timing the folders and bars use);
#      TUNE_SHAPES="N,K ...": tune those shapes only (the bench still times the whole model)
#   5: issue 12, candidates the tuner's climb did not reach at the 13 cells below 0.95 of DeepGEMM
#      (DeepGEMM's own tiles, cluster and tile neighbours), benched as the bench times, against the
#      shipped configs twice and DeepGEMM on the same cells; candidate_report.py picks (5-6 min;
#      300 s on one H100, cut at 330 on a fresh one: give it the wrapper's 570); STRADDLE=1:
#      96 / 112-wide tiles at even rings at the cells below 0.95; ONLY="N,K,M ..." (calls 5, 6):
#      those cells alone, e.g. ONLY=3072,7168,512 STRADDLE=1 5 on an H200 (~2-3 min)
#   6: issue 13, the same for cold decode: splits that fill 116-132 SMs at the 80% / 60% shapes (~4 min);
#      DEEP=1: the M = 64 shipped configs at rings of 12-16 stages, with session 37's cold tune picks
#      at M = 16 / 64; GRAPH=1: timed as the side by side times, reported, never merged (session 38)
#   7: issue 12, a kernel patch of scripts/experiments/ against main (EXP=name; EXP=name prepare
#      builds it; EXP_ENV=VAR=1 sets a switch the patch reads): B's GEMM GPU tests, then A / B and
#      B / A on the shipped configs, A / B on the heuristic's, M >= 128, A and B on DeepGEMM's tiles
#      at 3072 / 2112 x 7168, M = 512, and on 96 / 112-wide tiles at even rings (build-run/straddle)
#      (~8 min; carry build-run and build-exp/NAME; on an H100 the heuristic A / B was cut at 570 s
#      in session 34: there pass GEMM_TESTS=None.none to time in a second call). cta_clock is a
#      probe, not an A / B. DECODE=1: instead, cold A / B at M = 1 / 16 / 64 and each build on call
#      6's deepest rings at M = 64, then B / A (~7 min on an H100 with
#      GEMM_TESTS='GemmConfigsExactGpu.*:SplitClusterGpu.*')
#   8: issue 13, cold as built, with --hot-activations, and with --b-is-weight too: DeepSeek-V3 and
#      token x channel (Llama-3.1-8B, Qwen2.5-7B), M = 1 / 16 / 64, beside cuBLASLt and bf16 (~6 min)
#   9: issue 13, the decode weight stream against plain reads of the same bytes, five ways, beside
#      the cold GEMM (scripts/experiments/floor_pattern_call.sh, ~1 min)
set -u
here=$(cd "$(dirname "$0")" && pwd)
cand=(3072,7168,512=128,96,7,2,1,1/128,96,6,2,1,1/128,96,7,2,1,2/128,96,5,2,1,1/128,96,6,2,2,1
  2112,7168,512=128,64,8,2,1,1/128,64,7,2,1,1/128,64,8,2,1,2/128,96,6,2,1,1/128,64,8,2,2,1
  24576,7168,512=256,128,3,2,1,2/256,128,3,2,1,1/128,192,4,2,1,1/128,192,4,2,2,1/128,192,4,2,1,2
  1536,7168,2048=128,192,4,2,2,1/128,192,4,2,1,2/128,96,7,2,1,1/128,128,5,2,1,1
  3072,7168,2048=128,192,4,2,2,1/128,192,4,2,1,2/256,128,3,2,1,1/256,128,3,2,1,2/128,128,5,2,1,2
  4608,7168,2048=128,192,4,2,1,1/128,192,4,2,1,2/256,128,3,2,1,1/256,128,3,2,2,1
  7168,18432,4096=256,128,3,2,2,1/256,128,3,2,1,2/128,192,4,2,1,1/128,192,4,2,2,1
  7168,16384,4096=256,128,3,2,1,1/256,128,3,2,2,1/128,192,4,2,1,1/128,192,4,2,2,1
  512,7168,4096=128,128,6,2,1,1/128,128,6,2,2,1/256,128,3,2,1,1/128,64,8,2,1,1
  1536,7168,4096=128,192,4,2,2,1/128,192,4,2,1,2/256,128,3,2,1,1/256,128,3,2,2,1
  2112,7168,4096=128,192,4,2,2,1/128,192,4,2,1,2/256,128,3,2,1,1/128,160,4,2,1,1
  4608,7168,4096=128,192,4,2,1,1/128,192,4,2,1,2/256,128,3,2,1,1/256,128,3,2,2,1
  24576,7168,4096=256,128,3,2,1,1/256,128,3,2,1,2/128,192,4,2,1,1/128,192,4,2,2,1)
# call 5's STRADDLE=1 set (session 32): 96 / 112-wide tiles at even rings (laps, 1.05-1.12x on their
# own) at the cells below 0.95 of DeepGEMM on an H100 and their narrow-N neighbours; and call 4's
# (session 32) picks that beat the H100 folder's entry by 1.4-3.4% in one run each
straddles=(3072,7168,512=128,96,6,2,1,1/128,96,4,2,1,1/128,112,6,2,1,1/128,96,6,2,2,1
  3072,7168,128=64,96,8,1,1,1/64,96,10,1,1,1/128,96,6,2,1,1/64,64,12,1,1,1
  7168,16384,512=256,128,3,2,1,2
  7168,18432,512=256,112,3,2,1,1
  3072,7168,2048=128,96,6,2,1,1/128,112,6,2,1,1/128,96,4,2,1,1/128,112,6,2,2,1
  3072,1536,512=128,96,6,2,1,1/128,96,4,2,1,1/128,112,6,2,1,1
  4608,7168,4096=128,96,6,2,1,1/128,112,6,2,1,1/128,112,4,2,1,1
  2112,7168,512=128,96,6,2,1,1/128,96,4,2,1,1/128,112,6,2,1,1
  1536,7168,512=128,96,6,2,1,1/128,96,4,2,1,1
  1536,7168,2048=128,96,6,2,1,1/128,112,6,2,1,1)
# call 6's decode candidates (cold, issue 13's 80% / 60% shapes): splits that put 116-132 CTAs on
# the 132 SMs where the shipped ones use 96-112, within the split clusters that fit at once
# (2: 66, 3: 39, 4: 30, 5: 22, 6: 17, 8: 15) or through the workspace; at N = 512 / 576 (4.5-4.9 us,
# issue 13 asks <= 4) the shipped workspace split sk7 pays a second kernel: cluster splits that fit
cold=(4608,7168,1=16,160,6,1,1,1,4,1/16,80,8,1,1,1,2,1/16,112,7,1,1,1,3,0
  4608,7168,16=16,160,6,1,1,1,4,1/16,80,8,1,1,1,2,1/16,112,7,1,1,1,3,0
  4608,7168,64=64,80,8,1,1,1,2,1/64,160,5,1,1,1,4,1/64,112,6,1,1,1,3,0
  3072,7168,1=16,80,8,1,1,1,3,1/16,48,8,1,1,1,2,1/16,144,6,1,1,1,5,1/16,112,7,1,1,1,4,1
  3072,7168,16=16,80,8,1,1,1,3,1/16,48,8,1,1,1,2,1/16,144,6,1,1,1,5,1/16,128,5,1,1,1,4,1
  3072,7168,64=64,48,8,1,1,1,2,1/64,80,8,1,1,1,3,1/64,112,6,1,1,1,4,1
  2112,7168,1=16,32,8,1,1,1,2,1/16,96,7,1,1,1,5,1/16,144,6,1,1,1,8,1/16,48,8,1,1,1,3,0
  2112,7168,16=16,32,8,1,1,1,2,1/16,96,7,1,1,1,5,1/16,144,6,1,1,1,8,1/16,48,8,1,1,1,3,0
  2112,7168,64=64,96,6,1,1,1,5,1/64,144,5,1,1,1,8,1/64,48,8,1,1,1,3,0
  1536,7168,1=16,112,6,1,1,1,8,1/16,80,8,1,1,1,5,1/16,48,8,1,1,1,4,0/16,96,7,1,1,1,8,0
  1536,7168,16=16,112,6,1,1,1,8,1/16,80,8,1,1,1,5,1/16,48,8,1,1,1,4,0/16,96,7,1,1,1,8,0
  1536,7168,64=64,112,6,1,1,1,8,1/64,80,8,1,1,1,5,1/64,48,8,1,1,1,4,0
  7168,2304,1=16,112,8,1,1,1,2,1/16,192,6,1,1,1,3,1
  7168,2304,16=16,112,8,1,1,1,2,1/16,192,6,1,1,1,3,1
  7168,2304,64=64,112,6,1,1,1,2,1/64,192,4,1,1,1,3,1
  7168,2048,1=16,112,8,1,1,1,2,1/16,192,6,1,1,1,3,1
  7168,2048,16=16,112,8,1,1,1,2,1/16,192,6,1,1,1,3,1
  7168,2048,64=64,112,6,1,1,1,2,1/64,192,4,1,1,1,3,1
  512,7168,1=16,32,6,1,1,1,6,1/16,64,6,1,1,1,8,1/16,32,8,1,1,1,8,0/16,32,8,1,1,1,4,1
  512,7168,16=16,32,6,1,1,1,6,1/16,64,6,1,1,1,8,1/16,32,8,1,1,1,8,0/16,32,8,1,1,1,4,1
  512,7168,64=64,32,8,1,1,1,4,1/64,64,6,1,1,1,8,1/64,32,8,1,1,1,8,0
  576,7168,1=16,32,6,1,1,1,5,1/16,64,6,1,1,1,8,1/16,32,8,1,1,1,8,0/16,32,8,1,1,1,4,1
  576,7168,16=16,32,6,1,1,1,5,1/16,64,6,1,1,1,8,1/16,32,8,1,1,1,8,0/16,32,8,1,1,1,4,1
  576,7168,64=64,32,8,1,1,1,4,1/64,64,6,1,1,1,8,1/64,32,8,1,1,1,8,0)
# call 6's DEEP=1 set (session 30): each M = 64 shipped config (tuned at s8, the deepest ring the m64
# space then had) at s12 and at the deepest ring that fits (s14 / s16): the B bytes in flight predict
# cold bandwidth. H100, deepest: 3072 x 7168 1.126x, 4608 x 7168 1.019x, split ones 0.97-1.00x.
# The last candidate of 4608 / 576 x 7168 and the M = 16 cells: session 37's cold tune picks
# (--b-is-weight, 3-9% over the shipped entries as that tune measured them)
deep=(4608,7168,64=64,48,12,1,1,1/64,48,14,1,1,1/64,64,12,1,1,1
  3072,7168,64=64,32,12,1,1,1/64,32,16,1,1,1
  2112,7168,64=64,32,12,1,1,1,2,1/64,32,16,1,1,1,2,1
  1536,7168,64=64,48,12,1,1,1,3,1/64,48,14,1,1,1,3,1
  7168,2304,64=64,64,12,1,1,1
  7168,2048,64=64,64,12,1,1,1
  7168,16384,64=64,64,12,1,1,2
  7168,18432,64=64,64,12,1,1,1
  512,7168,64=64,32,12,1,1,1,6,1/64,32,16,1,1,1,6,1
  576,7168,64=64,32,12,1,1,1,5,1/64,32,16,1,1,1,5,1/64,32,12,1,1,1,4,1
  2112,7168,16=16,112,7,1,1,1,5,1
  7168,2048,16=16,64,12,1,1,1
  7168,18432,16=16,112,8,1,1,1,2,1
  7168,16384,16=16,112,8,1,1,1,2,1)
if [ "${1:-}" = prepare ]; then
  # call 2's ncu cells and call 7's M = 512 pair: DeepGEMM's tiles (m128n96 at an even ring, which
  # runs laps since session 32, beside DeepGEMM's s7)
  rm -rf build-run/forced && python3 "$here/force_gemm_configs.py" build-run/forced 3072 7168 512=128,96,6,2,1,1 256=128,96,6,2,1,1 384=128,96,6,2,1,1 &&
    python3 "$here/force_gemm_configs.py" build-run/forced 2112 7168 512=128,64,8,2,1,1 &&
    python3 "$here/force_gemm_configs.py" build-run/forced 1536 7168 2048=128,192,4,2,1,1 || exit 1
  # call 7's straddling tiles (96 / 112 wide: two B scale blocks, the split dispatched) at even rings
  rm -rf build-run/straddle && python3 "$here/force_gemm_configs.py" build-run/straddle 3072 7168 \
    512=128,96,6,2,1,1 2048=128,112,6,2,1,1 && python3 "$here/force_gemm_configs.py" build-run/straddle 2112 7168 \
    512=128,96,6,2,1,1 && python3 "$here/force_gemm_configs.py" build-run/straddle 7168 2048 512=128,112,6,2,1,1 || exit 1
  # call 5's candidates for the cells below 0.95 of DeepGEMM (session 23): DeepGEMM's own tiles
  # (m128n96 s7 at 3072 x 7168, m128n64 s8 at 2112 x 7168, M = 512) and each shipped config's cluster
  # and tile neighbours; variant i holds every cell's i-th candidate
  python3 "$here/candidate_variants.py" configs/NVIDIA_H200 build-run/cand "${cand[@]}" > /dev/null &&
    python3 "$here/candidate_variants.py" configs/NVIDIA_H200 build-run/cold "${cold[@]}" > /dev/null &&
    python3 "$here/candidate_variants.py" configs/NVIDIA_H200 build-run/straddles "${straddles[@]}" > /dev/null &&
    python3 "$here/candidate_variants.py" configs/NVIDIA_H200 build-run/deep "${deep[@]}" > /dev/null || exit 1
  export FP8KIT_CACHE_DIR=$PWD/build-run/jit
  warm=(build-run/fp8kit cache warm --sm-count 132 --device-name "NVIDIA H200")
  h100=configs/NVIDIA_H100_80GB_HBM3  # calls 1 and 7 on an H100 time that GPU's own folder
  device_of() { if [ "$1" = "$h100" ]; then echo "NVIDIA H100 80GB HBM3"; else echo "NVIDIA H200"; fi; }
  for cfg in configs/NVIDIA_H200 none build-run/forced build-run/straddle build-run/cand/v* build-run/cold/v* build-run/straddles/v* build-run/deep/v* $h100; do
    build-run/fp8kit cache warm --sm-count 132 --device-name "$(device_of "$cfg")" --model deepseek-ai/DeepSeek-V3 --tp 8 \
      --batch-sizes 1 16 64 128 512 2048 4096 --config-dir $cfg || exit 1
  done
  for cfg in configs/NVIDIA_H200 none; do
    for model in meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct; do
      "${warm[@]}" --model $model --tp 1 --mode-a token --mode-b channel --batch-sizes 1 16 64 --config-dir $cfg || exit 1
    done
  done
  # call 7's B build (EXP=name prepare; none without EXP: its kernels would double the cache a call
  # carries, session 40): experiments/build_exp.sh into build-exp/<name> (carried with build-run by
  # call 7 only: with build-peers it would pass the 64 MiB carry), its kernels into build-run's JIT
  # cache (each source hashes to its own entry)
  if [ -n "${EXP:-}" ]; then
    name=$EXP patch=$here/experiments/$EXP.patch
    bash "$here/experiments/build_exp.sh" "$name" || exit 1
    # each switch the patch reads (getenv("FP8KIT_EXP_...")) makes its own kernels; a patch's kernel
    # that spills stops its set's warm (cache warm fails on spills) and compiles on the GPU machine
    for switch in "" $(sed -n 's/^+.*getenv("\(FP8KIT_EXP_[A-Z0-9_]*\)").*/\1=1/p' "$patch"); do
      for cfg in configs/NVIDIA_H200 none build-run/forced build-run/straddle build-run/deep/v* $h100; do
        env $switch FP8KIT_CACHE_DIR=$PWD/build-run/jit "build-exp/$name/fp8kit" cache warm --sm-count 132 \
          --device-name "$(device_of "$cfg")" --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 1 16 64 128 512 2048 4096 \
          --config-dir $cfg > /dev/null 2>&1 || echo "warning: $name's kernels for $cfg spill or fail to compile" >&2
      done
    done
  fi
  # The JIT cache keeps every source version of a kernel: by session 31 it held 28 MB, and build-run
  # with build-peers passed the 64 MiB a call may carry (rm -rf build-run/jit, then prepare again).
  # The limit counts the tracked tree too; du's disk blocks, not file sizes, matched its verdicts
  # (session 40: 70 refused, 63 taken)
  size=$( (git ls-files -z | du -smc --files0-from=- && du -smc build-run build-peers) 2> /dev/null |
    awk '$2 == "total" { s += $1 } END { print s }')
  [ "$size" -le 64 ] || echo "warning: the tree, build-run and build-peers are $size MiB (carry limit 64)" >&2
  exit 0
fi
call=$1 out=$2
case $call in 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9) ;; *) echo "call must be 0-9 (or prepare), got $call" >&2; exit 2 ;; esac
B=build-run/fp8kit T=build-run/fp8kit_gpu_tests P=build-peers
# The library takes only the tuned files whose metadata names the GPU it runs on (and whose file
# name carries that name's tag): on a lent GPU other than the H200 the configs were tuned on (an H100
# since session 26), the H200 files are rewritten for it, else every config-dir bench there times the
# default heuristic (session 26's H100 calls did). Calls 5 / 6 bring their merged folder back under
# the H200's name (merged_on_gpu.txt names the GPU that chose).
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
h200=configs/NVIDIA_H200
rewrite_device() {  # FROM TO DIR...: the tuned files of GPU FROM rewritten for GPU TO, in place
  python3 "$here/tuned_configs_for_device.py" --from "$1" --to "$2" "${@:3}"
}
if [ "$gpu_name" != "NVIDIA H200" ]; then
  rm -rf /tmp/retag && mkdir -p /tmp/retag && cp -r configs/NVIDIA_H200 /tmp/retag/ && h200=/tmp/retag/NVIDIA_H200
  rewrite_device 'NVIDIA H200' "$gpu_name" $h200 build-run/forced build-run/straddle build-run/cand build-run/cold build-run/straddles build-run/deep \
    ${CONFIGS:-}
  echo "GPU $gpu_name: the H200 configs rewritten for it" >&2
fi
# a config-dir bench that silently times the heuristic wastes the call: stop if the lookup finds none
FP8KIT_CACHE_DIR=$PWD/build-run/jit $B cache warm --device-name "$gpu_name" --model deepseek-ai/DeepSeek-V3 --tp 8 \
  --batch-sizes 512 --config-dir $h200 2>&1 | grep -q '(0 tuned,' && { echo "no tuned config found for $gpu_name in $h200" >&2; exit 1; }
# Call 1's configs: CONFIGS (/tmp/fp8kit_merged confirms calls 5 / 6's winners), else the running
# GPU's own shipped folder where there is one (what scaled_mm picks there), else the H200's; calls
# 4-7 start from that folder too
own=configs/${gpu_name// /_}
[ -d "$own" ] || own=$h200
shipped=${CONFIGS:-$own}
# GEMM_TESTS: the gtest filter of calls 1 and 7 (240 s there). Every shipped config exact, the
# stratified sample and the split clusters take ~160 s on a fresh H100; Fp8kitGemmGpu.* adds ~180 s
# (its scale pairs compile on the GPU machine: 134 s in session 31), so it runs in call 0 only.
all_gemm_tests='SplitClusterGpu.*:Fp8kitGemmGpu.*:GemmConfigsExactGpu.*'
gemm_tests=--gtest_filter=${GEMM_TESTS:-'GemmConfigsExactGpu.*:SplitClusterGpu.*'}
export FP8KIT_CACHE_DIR=$PWD/build-run/jit DG_ROOT=/tmp/dg DG_JIT_CACHE_DIR=/tmp/dgcache
d=$out/call$call
mkdir -p "$d"
dsv3=(--models deepseek-ai/DeepSeek-V3 --tp-sizes 8 --providers fp8-block-w-group-a-noquant)
case $call in
  0)  # every GEMM GPU test, DeepGEMM built beside them for the calls after it on the same machine
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1 &
    FP8KIT_CONFIG_DIR=$(realpath $shipped) timeout 450 $T --gtest_filter="${GEMM_TESTS:-$all_gemm_tests}" > "$d/tests.log" 2>&1
    echo "exit $?" >> "$d/tests.log"
    wait
    ;;
  1)
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1 &  # beside the tests, not beside a timing
    FP8KIT_CONFIG_DIR=$(realpath $shipped) timeout 240 $T "$gemm_tests" > "$d/tests.log" 2>&1 ||
      { tail -30 "$d/tests.log"; echo "GEMM GPU tests failed: not timed"; }
    wait
    for cfg in $shipped ${HEURISTIC-none}; do  # HEURISTIC= skips the heuristic-alone bench (~2 min)
      # shellcheck disable=SC2086  # BATCHES: a list (a subset where the device budget is short)
      $B bench gemm "${dsv3[@]}" --backends fp8kit,cublaslt --batch-sizes ${BATCHES:-128 512 2048 4096} --config-dir "$cfg" \
        --out "$d/bench_${cfg##*/}" > "$d/bench_${cfg##*/}.txt" 2>&1
    done
    # shellcheck disable=SC2086
    python3 $P/peers_gemm.py --dsv3 --batch-sizes ${BATCHES:-128 512 2048 4096} --out "$d/peers.jsonl" > "$d/peers.log" 2>&1
    for cfg in ${shipped##*/} ${HEURISTIC-none}; do
      python3 $P/compare.py "$d/bench_$cfg/gemm_results.jsonl" "$d/peers.jsonl" > "$d/compare_$cfg.txt" 2>&1
    done
    ;;
  2)
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1
    timeout 200 "$here/ncu_gemm.sh" $B $P build-run/forced "$d/ncu" 3072,7168,512 1536,7168,2048 > "$d/ncu.log" 2>&1
    # the bench's regime (inputs and code in L2, boost clock): session 33's flushed profile put 13.7%
    # of our stall samples on instruction fetch (no_inst; DeepGEMM 2.3%), which a warm L2 may hide
    # (m128n192 at 1536 x 7168 M = 2048: DeepGEMM's loop shape and shared memory, 8% more active cycles)
    timeout 150 "$here/ncu_gemm.sh" --warm $B $P build-run/forced "$d/ncu_warm" 3072,7168,512 1536,7168,2048 \
      > "$d/ncu_warm.log" 2>&1
    timeout 280 "$here/ncu_gemm.sh" --source --warm $B $P build-run/forced "$d/ncu_warm" 3072,7168,512 1536,7168,2048 \
      > "$d/ncu_source.log" 2>&1
    ;;
  3)
    for cfg in none $h200; do
      $B bench gemm --providers bf16,fp8-channel-w-token-a-noquant --backends cublaslt,fp8kit --models \
        meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct --tp-sizes 1 --batch-sizes 1 16 64 --timing cold \
        --config-dir $cfg --out "$d/token_channel_${cfg##*/}" > "$d/token_channel_${cfg##*/}.txt" 2>&1
    done
    ;;
  9)  # the decode GEMM's weight stream against reads of the same bytes
    bash "$here/experiments/floor_pattern_call.sh" $B "$own" "$d"
    ;;
  8)  # the bench's cold rotation also makes A miss L2 (H200, session 36: that costs nothing)
    for v in cold hot hot_weight; do
      f=(); [ $v != cold ] && f=(--hot-activations); [ $v = hot_weight ] && f+=(--b-is-weight)
      c=(--timing cold "${f[@]}" --config-dir "$own" --batch-sizes 1 16 64)
      $B bench gemm "${dsv3[@]}" --backends fp8kit,cublaslt "${c[@]}" --out "$d/dsv3_$v" > "$d/dsv3_$v.txt" 2>&1
      $B bench gemm --providers bf16,fp8-channel-w-token-a-noquant --backends cublaslt,fp8kit --models \
        meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct --tp-sizes 1 "${c[@]}" --out "$d/tc_$v" > "$d/tc_$v.txt" 2>&1
    done
    ;;
  4)
    tf=(--bench-timing) ab=() && [ -n "${DECODE:-}" ] && tf=(--cold-max-m 64) ab=(--timing cold)
    read -r -a tune_ms <<< "${TUNE_MS:-${DECODE:+1 16 64}}" && [ ${#tune_ms[@]} -gt 0 ] || tune_ms=(2048 4096)
    what=(--model deepseek-ai/DeepSeek-V3 --tp-size 8)  # TUNE_SHAPES="N,K ...": those shapes only
    [ -n "${TUNE_SHAPES:-}" ] && read -r -a what <<< "--shapes $TUNE_SHAPES"
    $B tune "${what[@]}" --batch-sizes "${tune_ms[@]}" "${tf[@]}" --time-budget 300s \
      --config-dir $own --save-path "$d/tuned" > "$d/tune.log" 2>&1
    cp -r $own "$d/merged" && python3 "$here/merge_tuned.py" "$d/tuned" "$d/merged" > "$d/merge.log" 2>&1
    GEMM_AB_BENCH_ARGS="${ab[*]}" GEMM_AB_TESTED=1 GEMM_AB_CONFIGS_B="$d/merged" timeout 200 "$here/gemm_ab.sh" $B $B - $own \
      "$d/sustained_tune" "${tune_ms[@]}" > "$d/sustained_tune.txt" 2>&1
    ;;
  7)
    # B = main with experiments/$EXP.patch: every config exact first (the stratified sample runs the
    # tiles of the whole search space), then A / B at M >= 128 on the shipped configs and on the
    # heuristic's (shipped both ways round, A B then B A: the order's share of the noise)
    L=build-exp/${EXP:?EXP=name of a scripts/experiments patch}
    [ -x $L/fp8kit ] || { echo "$L/fp8kit missing: run prepare" >&2; exit 1; }
    # EXP_ENV: the patch's switch (VAR=1), set for both sides: only B's source generation reads it
    # shellcheck disable=SC2163  # the assignment itself is exported
    [ -n "${EXP_ENV:-}" ] && export "$EXP_ENV" && echo "$EXP_ENV" > "$d/exp_env.txt"
    FP8KIT_CONFIG_DIR=$(realpath $own) timeout 240 $L/fp8kit_gpu_tests "$gemm_tests" > "$d/b_tests.log" 2>&1 ||
      { tail -30 "$d/b_tests.log"; echo "B's GEMM GPU tests failed: not timed"; exit 1; }
    ab() { GEMM_AB_TESTED=1 timeout "${ab_limit:-150}" "$here/gemm_ab.sh" "$1" "$2" - "$3" "$d/$4" "${@:5}" > "$d/$4.txt" 2>&1; }
    both() {  # TAG BENCH_ARGS...: one `bench gemm` with A, then with B, into $d/TAG_a and $d/TAG_b
      local tag=$1 side bin
      shift
      for side in a b; do
        bin=$B; [ $side = b ] && bin=$L/fp8kit
        $bin bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit "$@" --out "$d/${tag}_$side" \
          > "$d/${tag}_$side.txt" 2>&1
      done
    }
    if [ -n "${DECODE:-}" ]; then  # DECODE=1: cold A / B and B / A at M = 1 / 16 / 64 instead (issue 13)
      export GEMM_AB_BENCH_ARGS="--timing cold"
      ab_limit=200  # a cold bench re-copies its inputs per call: give each pair more than 150 s
      dc=${DECODE_CONFIGS:-$own}  # none: a heuristic patch
      ab $B $L/fp8kit $dc ab_cold 1 16 64
      # each build on the deepest rings of call 6's DEEP=1 set (M = 64): whether the patch moves
      # what the deep rings gain
      both deep --batch-sizes 64 --timing cold --shapes 4608,7168 3072,7168 2112,7168 1536,7168 512,7168 576,7168 \
        --config-dir build-run/deep/v2
      ab $L/fp8kit $B $dc ba_cold 1 16 64
    else
      ab $B $L/fp8kit $own ab_shipped
      ab $L/fp8kit $B $own ba_shipped
      ab $B $L/fp8kit none ab_heuristic
      # DeepGEMM's tiles at the two M = 512 cells it leads most (m128n96 at an even ring, m128n64 s8;
      # on its m128n96 s7 ours ran 907 against 1137 TFLOP/s, session 27), A then B
      both forced --shapes 3072,7168 2112,7168 --batch-sizes 512 --config-dir build-run/forced
      both straddle --shapes 3072,7168 2112,7168 7168,2048 --batch-sizes 512 2048 --config-dir build-run/straddle
    fi
    ;;
  5 | 6)
    if [ $call = 5 ]; then
      cells=("${cand[@]}") variants=build-run/cand timing=graph
      [ -n "${STRADDLE:-}" ] && cells=("${straddles[@]}") variants=build-run/straddles
    else
      cells=("${cold[@]}") variants=build-run/cold timing=cold
      [ -n "${DEEP:-}" ] && cells=("${deep[@]}") variants=build-run/deep
      [ -n "${GRAPH:-}" ] && timing=graph
    fi
    # ONLY="N,K,M ...": those cells of the set alone (a short budget; the variant folders keep theirs)
    if [ -n "${ONLY:-}" ]; then
      kept=()
      for c in "${cells[@]}"; do [[ " $ONLY " == *" ${c%%=*} "* ]] && kept+=("$c"); done
      [ ${#kept[@]} -gt 0 ] || { echo "ONLY=$ONLY: no such cell in call $call's set" >&2; exit 2; }
      cells=("${kept[@]}")
    fi
    # on a GPU with its own folder (an H100), the candidates replace that folder's entries
    if [ "$own" != "$h200" ]; then
      rm -rf /tmp/own_variants && python3 "$here/candidate_variants.py" "$own" /tmp/own_variants "${cells[@]}" > /dev/null || exit 1
      variants=/tmp/own_variants
    fi
    # the candidate cells' shapes by M; then shipped, each variant, shipped again (the noise)
    declare -A at=()
    for c in "${cells[@]}"; do
      IFS=, read -r n k m <<< "${c%%=*}"
      at[$m]="${at[$m]:-} $n,$k"
    done
    for cfg in $own $variants/v* $own; do
      tag=${cfg##*/}; [ "$cfg" = "$own" ] && tag=base
      [ -e "$d/$tag" ] && tag=${tag}_again
      mkdir -p "$d/$tag"
      for m in "${!at[@]}"; do
        # shellcheck disable=SC2086  # the shapes are a list
        $B bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --shapes ${at[$m]} --batch-sizes $m \
          --timing $timing --config-dir "$cfg" --out "$d/$tag/m$m" > "$d/$tag/m$m.log" 2>&1
      done
    done
    if [ $call = 5 ] || [ -n "${GRAPH:-}" ]; then
      # DeepGEMM after the timings, not beside them (call 0 leaves it built on a warm machine)
      [ -e /tmp/dg/deep_gemm ] || bash $P/build_dg.sh > "$d/dg_build.log" 2>&1
      for m in "${!at[@]}"; do
        # shellcheck disable=SC2086
        python3 $P/peers_gemm.py --shapes ${at[$m]} --batch-sizes $m --peers deepgemm --out "$d/dg_m$m.jsonl" >> "$d/dg.log" 2>&1
      done
    fi
    # the winners merged into one copy of the shipped configs that calls 5 and 6 share on a warm
    # machine (/tmp/fp8kit_merged), for CONFIGS=/tmp/fp8kit_merged call 1 to confirm right after
    # (GRAPH=1 reports only: its winners lose cold, session 38, and must not reach call 1's folder)
    if [ -n "${GRAPH:-}" ]; then
      python3 "$here/candidate_report.py" "$d" "${cells[@]}" > "$d/report.txt" 2>&1
    else
      merged=/tmp/fp8kit_merged
      [ -d $merged ] || cp -r $own $merged
      python3 "$here/candidate_report.py" --merge $variants $merged "$d" "${cells[@]}" > "$d/report.txt" 2>&1
      cp -r $merged "$d/merged"  # ready for the folder it started from: the GPU's own, else configs/NVIDIA_H200
      [ "$own" = "$h200" ] && rewrite_device "$gpu_name" 'NVIDIA H200' "$d/merged"
      echo "$gpu_name" > "$d/merged_on_gpu.txt"
    fi
    ;;
esac
tar czf "$out/call$call.tgz" -C "$out" "call$call" && rm -rf "$d"
