#!/usr/bin/env bash
# The prepared device calls of docs/PERF.md's session 22 entry ("next"), one per invocation (issues
# 12, 13), so that a session lent a GPU spends it measuring. On the CPU machine first:
#   cmake --preset release && cmake --build --preset release -j2
#   mkdir -p build-run && cp build/release/{fp8kit,fp8kit_gpu_tests} build-run/ && cp -r ../shared/peers build-peers
# Then one device call each, carrying build-run build-peers, OUT = the call's $OUT; wrap each as
#   timeout 570 bash scripts/pending_calls.sh N $OUT; [ -d $OUT/callN ] && tar czf $OUT/callN.tgz -C $OUT callN
# so that a call cut by its limit still brings back one archive.
#   1: issue 12: re-tune at M >= 128 (300 s), then the side by side with the re-tuned files merged
#      into the shipped ones, the kit's DeepGEMM, cuBLASLt in the bench (compare.py's fp8kit/cuBLASLt
#      line) (~9 min). If call 3's variant wins, land it first: the tune is for the kernel it runs
#   2: issue 13: the GEMM GPU tests, the cold decode table with the shipped configs and the
#      heuristic alone (wider tiles at M = 64 since bcbe613), decode graph timing beside DeepGEMM,
#      Llama-3.1-8B / Qwen2.5-7B token x channel on the heuristic alone against bf16 and cuBLASLt (~8 min)
#   3: issue 12, the consumer warpgroups issuing their MMA units in turns (scripts/experiments/
#      issue_turns.patch, switched by FP8KIT_EXP_ISSUE_TURNS in one binary) against without, then
#      turns with serial promotion (FP8KIT_EXP_SERIAL), shipped configs, M = 128-4096 (~8 min). Needs build-run/fp8kit-turns, fp8kit_gpu_tests-turns
#      and both variants in build-run/jit from `bash scripts/pending_calls.sh prepare` (CPU, ~6 min)
#   4: issue 13, the decode heuristic choosing workspace or cluster per split by the model, with the
#      device's cluster capacity (scripts/experiments/decode_cluster_choice.patch) against main's
#      rule, and 96 / 112 wide decode tiles without 128x128 B scales; heuristic alone, M = 1 / 16,
#      DeepSeek-V3 cold and graph, Llama-3.1-8B and Qwen2.5-7B token x channel cold (~6 min).
#      Offline (scripts/heuristic_vs_journal.py) most of its picks were never measured.
# Each leaves $OUT/call<N>.tgz.
set -u
if [ "${1:-}" = prepare ]; then  # calls 3 and 4's binaries, each built in a worktree of HEAD with its patch
  experiments=$(cd "$(dirname "$0")" && pwd)/experiments
  for v in turns:issue_turns dcc:decode_cluster_choice; do
    name=${v%%:*} patch=$experiments/${v#*:}.patch
    rm -rf /tmp/$name && git worktree prune && git worktree add -f --detach /tmp/$name HEAD > /dev/null || exit 1
    (cd /tmp/$name && git apply "$patch") || { echo "$patch no longer applies: redo it" >&2; exit 1; }
    (cd /tmp/$name && cmake --preset release > /dev/null &&
      cmake --build --preset release -j2 --target fp8kit_cli fp8kit_gpu_tests) || exit 1
    mkdir -p build-run && cp /tmp/$name/build/release/fp8kit build-run/fp8kit-$name &&
      cp /tmp/$name/build/release/fp8kit_gpu_tests build-run/fp8kit_gpu_tests-$name || exit 1
  done
  rm -f build-run/fp8kit_gpu_tests-dcc build-run/fp8kit-v1 build-run/fp8kit-v2  # the carry stays under 64 MiB
  # every kernel the calls time into the carried cache (seconds here, minutes there)
  export FP8KIT_CACHE_DIR=$PWD/build-run/jit
  warm=(cache warm --sm-count 132 --device-name "NVIDIA H200")
  dsv3_warm=(--model deepseek-ai/DeepSeek-V3 --tp 8)
  for vars in "" FP8KIT_EXP_ISSUE_TURNS=1 "FP8KIT_EXP_ISSUE_TURNS=1 FP8KIT_EXP_SERIAL=1"; do
    # shellcheck disable=SC2086  # vars is a list of assignments
    env $vars build-run/fp8kit-turns "${warm[@]}" "${dsv3_warm[@]}" --batch-sizes 128 512 2048 4096 \
      --config-dir configs/NVIDIA_H200 || exit 1
  done
  for bin in fp8kit fp8kit-dcc; do
    build-run/$bin "${warm[@]}" "${dsv3_warm[@]}" --batch-sizes 1 16 --config-dir none || exit 1
    for model in meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct; do
      build-run/$bin "${warm[@]}" --model $model --tp 1 --mode-a token --mode-b channel --batch-sizes 1 16 \
        --config-dir none || exit 1
    done
  done
  exit 0
fi
call=$1 out=$2
case $call in 1 | 2 | 3 | 4) ;; *) echo "call must be 1-4 (or prepare), got $call" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
B=build-run/fp8kit T=build-run/fp8kit_gpu_tests P=build-peers
export FP8KIT_CACHE_DIR=$PWD/build-run/jit DG_ROOT=/tmp/dg DG_JIT_CACHE_DIR=/tmp/dgcache
d=$out/call$call
mkdir -p "$d"
dsv3=(--models deepseek-ai/DeepSeek-V3 --tp-sizes 8 --providers fp8-block-w-group-a-noquant)
case $call in
  1)
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1 &
    # the tuned files at M >= 128 predate the kernel's later changes (the heuristic beat them at 3
    # cells in session 22): re-tune (60 searches took 232 s in session 10; DeepGEMM builds beside
    # the tuner's compiles, and its timings are then rechecked alone), then the side by side with them
    $B tune --model deepseek-ai/DeepSeek-V3 --tp-size 8 --batch-sizes 128 512 2048 4096 --time-budget 300s \
      --save-path "$d/tuned" > "$d/tune.log" 2>&1
    wait
    cp -r configs/NVIDIA_H200 "$d/merged" && python3 "$here/merge_tuned.py" "$d/tuned" "$d/merged" > "$d/merge.log" 2>&1
    $B bench gemm "${dsv3[@]}" --backends fp8kit,cublaslt --batch-sizes 128 512 2048 4096 --config-dir "$d/merged" \
      --out "$d/bench_merged" > "$d/bench_merged.txt" 2>&1
    python3 $P/peers_gemm.py --dsv3 --batch-sizes 128 512 2048 4096 --out "$d/peers.jsonl" > "$d/peers.log" 2>&1
    python3 $P/compare.py "$d/bench_merged/gemm_results.jsonl" "$d/peers.jsonl" > "$d/compare_merged.txt" 2>&1
    ;;
  2)
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1 &  # beside the tests, not beside a timing
    timeout 240 $T --gtest_filter='SplitClusterGpu.*:Fp8kitGemmGpu.*:GemmConfigsExactGpu.*' > "$d/tests.log" 2>&1 ||
      { tail -30 "$d/tests.log"; echo "GEMM GPU tests failed: not timed"; }
    wait
    for cfg in configs/NVIDIA_H200 none; do
      $B bench gemm "${dsv3[@]}" --backends fp8kit,cublaslt --batch-sizes 1 16 64 --timing cold --config-dir "$cfg" \
        --out "$d/cold_${cfg##*/}" > "$d/cold_${cfg##*/}.txt" 2>&1
      $B bench gemm "${dsv3[@]}" --backends fp8kit --batch-sizes 1 16 64 --config-dir "$cfg" \
        --out "$d/graph_${cfg##*/}" > "$d/graph_${cfg##*/}.txt" 2>&1
    done
    # issue 13's token x channel bar on the heuristic alone (1.5x bf16 and cuBLASLt at M = 16 / 64)
    $B bench gemm --providers bf16,fp8-channel-w-token-a-noquant --backends cublaslt,fp8kit --models \
      meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct --tp-sizes 1 --batch-sizes 16 64 --timing cold \
      --config-dir none --out "$d/token_channel_none" > "$d/token_channel_none.txt" 2>&1
    python3 $P/peers_gemm.py --dsv3 --batch-sizes 1 16 64 --peers deepgemm --out "$d/peers.jsonl" > "$d/peers.log" 2>&1
    for cfg in NVIDIA_H200 none; do
      python3 $P/compare.py "$d/graph_$cfg/gemm_results.jsonl" "$d/peers.jsonl" > "$d/compare_$cfg.txt" 2>&1
    done
    ;;
  3)
    # B's GEMM GPU tests run with turns on (a wrong or hanging variant is not timed). Second: turns
    # with serial promotion everywhere (DeepGEMM's loop shape: at the overlapped tiles the other
    # warpgroup's batch would then fill the promotion's gap); its outputs are verified by the bench
    turns=build-run/fp8kit-turns
    GEMM_AB_ENV_B=FP8KIT_EXP_ISSUE_TURNS=1 timeout 280 "$here/gemm_ab.sh" $turns $turns \
      build-run/fp8kit_gpu_tests-turns configs/NVIDIA_H200 "$d/turns" 128 512 2048 4096 > "$d/turns.txt" 2>&1 &&
      GEMM_AB_ENV_B="FP8KIT_EXP_ISSUE_TURNS=1 FP8KIT_EXP_SERIAL=1" GEMM_AB_TESTED=1 timeout 220 "$here/gemm_ab.sh" \
        $turns $turns - configs/NVIDIA_H200 "$d/serial_turns" 128 512 2048 4096 > "$d/serial_turns.txt" 2>&1
    ;;
  4)
    # the configs change, not the kernels: every output is verified by the bench before it is timed
    for timing in cold graph; do
      GEMM_AB_TESTED=1 GEMM_AB_BENCH_ARGS="--timing $timing" timeout 150 "$here/gemm_ab.sh" $B build-run/fp8kit-dcc \
        - none "$d/dcc_$timing" 1 16 > "$d/dcc_$timing.txt" 2>&1
    done
    GEMM_AB_TESTED=1 GEMM_AB_BENCH_ARGS="--timing cold" GEMM_AB_PROVIDERS=fp8-channel-w-token-a-noquant \
      GEMM_AB_MODEL_ARGS="--models meta-llama/Llama-3.1-8B-Instruct Qwen/Qwen2.5-7B-Instruct --tp-sizes 1" \
      timeout 150 "$here/gemm_ab.sh" $B build-run/fp8kit-dcc - none "$d/dcc_token_channel" 1 16 \
      > "$d/dcc_token_channel.txt" 2>&1
    ;;
esac
tar czf "$out/call$call.tgz" -C "$out" "call$call" && rm -rf "$d"
