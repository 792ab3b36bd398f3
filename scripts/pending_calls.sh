#!/usr/bin/env bash
# The prepared device calls of docs/PERF.md's session 21 entry ("next"), one per invocation (issues
# 12, 13), so that a session lent a GPU spends it measuring. On the CPU machine first:
#   cmake --preset release && cmake --build --preset release -j2
#   mkdir -p build-run && cp build/release/{fp8kit,fp8kit_gpu_tests} build-run/ && cp -r ../shared/peers build-peers
# Then one device call each, carrying build-run build-peers, OUT = the call's $OUT; wrap each as
#   timeout 570 bash scripts/pending_calls.sh N $OUT; [ -d $OUT/callN ] && tar czf $OUT/callN.tgz -C $OUT callN
# so that a call cut by its limit still brings back one archive.
#   1: issue 12's side-by-side at M >= 128 (shipped configs and the heuristic alone) with the kit's
#      DeepGEMM and cuBLASLt, compare.py's summary; ncu --source of the GEMM's promotion (~8 min)
#   2: issue 13: how many split clusters fit (the heuristic's rule against the device's answer),
#      the GEMM GPU tests, the cold decode table with the new heuristic and the shipped configs,
#      decode graph timing beside DeepGEMM (~7 min)
#   3: issue 12, how the scales are read (the decomposition: 11% at 2112 x 7168, M = 512), against
#      main, shipped configs, M = 1-4096, graph and cold (~8 min): v1 reads the A scales before
#      the unit's MMAs are issued (DeepGEMM's order; ptxas put them between the 3rd and 4th QGMMA);
#      v2 = v1 + the B scales staged per stage by TMA beside A's (scripts/experiments/
#      staged_scales.patch: every scale an LDS before the MMAs, no LDG in the loop, as DeepGEMM).
#      Needs build-run/fp8kit-v1 and -v2 from `bash scripts/pending_calls.sh prepare` (CPU, about 6 min)
# Each leaves $OUT/call<N>.tgz.
set -u
if [ "${1:-}" = prepare ]; then  # call 3's variants, each built in a worktree of HEAD
  patch=$(cd "$(dirname "$0")" && pwd)/experiments/staged_scales.patch
  for v in v1 v2; do
    rm -rf /tmp/$v && git worktree prune && git worktree add -f --detach /tmp/$v HEAD > /dev/null || exit 1
    if [ $v = v2 ]; then
      (cd /tmp/$v && git apply "$patch") || { echo "staged_scales.patch no longer applies: redo it" >&2; exit 1; }
    else
      python3 - <<'PY' || exit 1
p = "/tmp/v1/kernels/fp8kit/gemm/sm90_fp8_gemm.cuh"
s = open(p).read()
issue = "    issue_mma(d, unit.stage, sl, false);\n"
early = "    if constexpr (kEarlyRowScales) unit.sa = row_scales(unit.stage, sl);\n"
assert s.count(issue + early) == 1, "the issue order changed: update the variant"
open(p, "w").write(s.replace(issue + early, early + issue))
PY
    fi
    (cd /tmp/$v && cmake --preset release > /dev/null && cmake --build --preset release -j2 --target fp8kit_cli) &&
      mkdir -p build-run && cp /tmp/$v/build/release/fp8kit build-run/fp8kit-$v || exit 1
  done
  exit 0
fi
call=$1 out=$2
case $call in 1 | 2 | 3) ;; *) echo "call must be 1, 2 or 3 (or prepare), got $call" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
B=build-run/fp8kit T=build-run/fp8kit_gpu_tests P=build-peers
export FP8KIT_CACHE_DIR=$PWD/build-run/jit DG_ROOT=/tmp/dg DG_JIT_CACHE_DIR=/tmp/dgcache
d=$out/call$call
mkdir -p "$d"
dsv3=(--models deepseek-ai/DeepSeek-V3 --tp-sizes 8 --providers fp8-block-w-group-a-noquant)
case $call in
  1)
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1 &
    # compiles beside DeepGEMM's build (timings discarded), then nothing else runs beside a timing
    $B cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 128 512 2048 4096 > "$d/warm.log" 2>&1
    $B cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 128 512 2048 4096 --config-dir none \
      >> "$d/warm.log" 2>&1
    wait
    for cfg in configs/NVIDIA_H200 none; do
      $B bench gemm "${dsv3[@]}" --backends fp8kit --batch-sizes 128 512 2048 4096 --config-dir "$cfg" \
        --out "$d/bench_${cfg##*/}" > "$d/bench_${cfg##*/}.txt" 2>&1
    done
    python3 $P/peers_gemm.py --dsv3 --batch-sizes 128 512 2048 4096 --out "$d/peers.jsonl" > "$d/peers.log" 2>&1
    for cfg in NVIDIA_H200 none; do
      python3 $P/compare.py "$d/bench_$cfg/gemm_results.jsonl" "$d/peers.jsonl" > "$d/compare_$cfg.txt" 2>&1
    done
    # where the promotion's time goes at the worst same-tile cell (per-instruction stall samples)
    "$here/ncu_gemm.sh" --source --warm $B $P configs/NVIDIA_H200 "$d/ncu" 2112,7168,512 > "$d/ncu.log" 2>&1
    ;;
  2)
    timeout 240 $T --gtest_filter='SplitClusterGpu.*:Fp8kitGemmGpu.*:GemmConfigsExactGpu.*' > "$d/tests.log" 2>&1 ||
      { tail -30 "$d/tests.log"; echo "GEMM GPU tests failed: not timed"; }
    for cfg in configs/NVIDIA_H200 none; do
      $B bench gemm "${dsv3[@]}" --backends fp8kit,cublaslt --batch-sizes 1 16 64 --timing cold --config-dir "$cfg" \
        --out "$d/cold_${cfg##*/}" > "$d/cold_${cfg##*/}.txt" 2>&1
      $B bench gemm "${dsv3[@]}" --backends fp8kit --batch-sizes 1 16 64 --config-dir "$cfg" \
        --out "$d/graph_${cfg##*/}" > "$d/graph_${cfg##*/}.txt" 2>&1
    done
    bash $P/build_dg.sh > "$d/dg_build.log" 2>&1
    python3 $P/peers_gemm.py --dsv3 --batch-sizes 1 16 64 --peers deepgemm --out "$d/peers.jsonl" > "$d/peers.log" 2>&1
    for cfg in NVIDIA_H200 none; do
      python3 $P/compare.py "$d/graph_$cfg/gemm_results.jsonl" "$d/peers.jsonl" > "$d/compare_$cfg.txt" 2>&1
    done
    ;;
  3)
    # every output of both variants is verified by the bench before it is timed
    for v in v1 v2; do
      GEMM_AB_TESTED=1 "$here/gemm_ab.sh" $B build-run/fp8kit-$v $T configs/NVIDIA_H200 "$d/${v}_graph" \
        1 16 64 128 512 2048 4096 > "$d/${v}_graph.txt" 2>&1
    done
    GEMM_AB_TESTED=1 GEMM_AB_BENCH_ARGS="--timing cold" "$here/gemm_ab.sh" $B build-run/fp8kit-v2 $T \
      configs/NVIDIA_H200 "$d/v2_cold" 1 16 64 > "$d/v2_cold.txt" 2>&1
    ;;
esac
tar czf "$out/call$call.tgz" -C "$out" "call$call" && rm -rf "$d"
