#!/usr/bin/env bash
# The prepared device calls of docs/PERF.md's session 20 entry, one per invocation (issues 12, 13),
# so that a session lent a GPU spends it measuring. On the CPU machine first:
#   cmake --preset release && cmake --build --preset release -j2
#   mkdir -p build-run && cp build/release/{fp8kit,fp8kit_gpu_tests} build-run/ && cp -r ../shared/peers build-peers
#   call 3 also needs build-run/fp8kit-base: the binary of c88e7e7, before the weight prefetch
#   (git worktree add /tmp/base c88e7e7 && (cd /tmp/base && cmake --preset release &&
#    cmake --build --preset release -j2 --target fp8kit_cli) && cp /tmp/base/build/release/fp8kit build-run/fp8kit-base)
# Then one device call each, carrying build-run (and build-peers for call 1), OUT = the call's $OUT:
#   bash scripts/pending_calls.sh 1 $OUT   # issue 12's decomposition + ncu, split-K ncu   (~7 min)
#   bash scripts/pending_calls.sh 2 $OUT   # split-cluster GPU tests, memcheck, A/B         (~5 min)
#   bash scripts/pending_calls.sh 3 $OUT   # token x channel tunes, weight-prefetch A/B     (~8 min)
#   bash scripts/pending_calls.sh 4 $OUT   # DeepSeek-V3 decode re-tune, cold; bench shipped /
#                                          # re-tuned / heuristic, cold                      (~9 min)
# Each leaves one archive, $OUT/call<N>.tgz.
set -u
call=$1 out=$2
case $call in 1 | 2 | 3 | 4) ;; *) echo "call must be 1, 2, 3 or 4, got $call" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
B=build-run/fp8kit T=build-run/fp8kit_gpu_tests
export FP8KIT_CACHE_DIR=$PWD/build-run/jit DG_ROOT=/tmp/dg DG_JIT_CACHE_DIR=/tmp/dgcache
d=$out/call$call
mkdir -p "$d"
case $call in
  1)
    # issue 12: where the same-tile gap sits, then L2 sectors of the fast variant beside DeepGEMM
    "$here/gemm_decompose.sh" $B build-peers configs/NVIDIA_H200 "$d" \
      "576,7168 1536,7168 2112,7168 3072,7168 4608,7168 3072,1536 7168,2048 7168,16384 4096,512" "512 2048"
    NCU_PROVIDER=fp8-tensor-w-tensor-a-noquant NCU_BENCH_ARGS=--fast-accum \
      "$here/ncu_gemm.sh" --warm $B build-peers "$d/configs" "$d/ncu" 2112,7168,512 1536,7168,2048
    # issue 13: the split-K GEMM against its reduce at N = 512 / 576, cold
    for nk in 512,7168 576,7168; do for m in 1 16 64; do
      ncu --kernel-name regex:'fp8kit_sm90_gemm|fp8kit_split_k_reduce' -c 6 --cache-control all --clock-control none --csv \
        --metrics gpu__time_duration.sum,launch__grid_size,launch__block_size $B bench gemm \
        --providers fp8-block-w-group-a-noquant --backends fp8kit --shapes $nk --batch-sizes $m --timing cold \
        --config-dir configs/NVIDIA_H200 > "$d/splitk_${nk%%,*}_$m.csv" 2>&1
    done; done
    ;;
  2)
    # the refused m128n80 s4 config against today's kernel, beside its 5-stage twin (about 1 min),
    # and the cold-read floor that the cold tables below report beside the copy ceiling
    timeout 300 $T --gtest_filter='OnceRacingConfigGpu.*:TimingGpu.ColdReadFloor*' \
      > "$d/known_race.log" 2>&1
    "$here/split_cluster_ab.sh" $B $T "$d"
    ;;
  3)
    # issue 13: per-token x per-channel decode tunes (cold; split clusters among the candidates),
    # then both models tuned and untuned beside bf16 and cuBLASLt
    for mdl in meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct; do
      $B tune --model $mdl --tp-size 1 --mode-a token --mode-b channel --batch-sizes 1 16 64 --cold-max-m 64 \
        --save-path "$d/tc" > "$d/tc_${mdl##*/}.log" 2>&1
    done
    for cfg in "$d/tc" none; do
      $B bench gemm --providers bf16,fp8-channel-w-token-a-noquant --backends cublaslt,fp8kit \
        --models meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct --batch-sizes 1 16 64 --timing cold \
        --config-dir "$cfg" --out "$d/tc_bench_${cfg##*/}" > /dev/null 2>&1
    done
    # the weight prefetch: linear() (quantization + GEMM) before and after it
    timeout 300 $T --gtest_filter='WeightPrefetchGpu.*:ScaledMmGpu.Linear*:DevicePointersGpu.*' > "$d/prefetch_tests.log" 2>&1 &&
      for t in cold graph; do
        GEMM_AB_TESTED=1 GEMM_AB_PROVIDERS=fp8-block-w-group-a GEMM_AB_BENCH_ARGS="--timing $t" \
          "$here/gemm_ab.sh" build-run/fp8kit-base $B $T none "$d/pf_$t" 1 16 64 128 > "$d/pf_$t.txt" 2>&1
      done
    ;;
  4)
    # issue 13: the shipped decode configs were tuned in graph timing, where weights up to ~25 MB
    # sit in L2 (session 14: the heuristic beat them cold on half the cells). Re-tune M <= 64 cold
    # (split clusters among the candidates), merge into a copy of the shipped folder, then bench
    # shipped / re-tuned / heuristic alone, cold, beside cuBLASLt.
    $B tune --model deepseek-ai/DeepSeek-V3 --tp-size 8 --batch-sizes 1 16 64 --cold-max-m 64 --time-budget 6m \
      --save-path "$d/tuned" > "$d/tune.log" 2>&1
    cp -r configs/NVIDIA_H200 "$d/merged" && python3 "$here/merge_tuned.py" "$d/tuned" "$d/merged"
    for cfg in configs/NVIDIA_H200 "$d/merged" none; do
      $B bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit,cublaslt --models deepseek-ai/DeepSeek-V3 \
        --tp-sizes 8 --batch-sizes 1 16 64 --timing cold --config-dir "$cfg" --out "$d/bench_${cfg##*/}" \
        > "$d/bench_${cfg##*/}.txt" 2>&1
    done
    ;;
esac
tar czf "$out/call$call.tgz" -C "$out" "call$call" && rm -rf "$d"
