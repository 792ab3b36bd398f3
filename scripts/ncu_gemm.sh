#!/usr/bin/env bash
# ncu of fp8kit's block-scaled GEMM and DeepGEMM's at the same (N, K, M), for the GPU machine.
# Usage: scripts/ncu_gemm.sh [--source] [--warm] FP8KIT_BIN PEERS_DIR CONFIG_DIR OUT_DIR N,K,M [N,K,M ...]
#   FP8KIT_BIN  the fp8kit CLI;  PEERS_DIR  a copy of ../shared/peers with DeepGEMM built
#   (build_dg.sh, DG_ROOT set);  CONFIG_DIR  tuned configs for fp8kit, or none.
# Sections and totals (default): OUT_DIR/ncu_fp8kit_N_K_M.txt and OUT_DIR/ncu_deepgemm_N_K_M.txt.
# fp8kit's GEMM is `fp8kit_sm90_gemm` (the quantization kernels before it are `fp8kit_entry`): of
# its 4 launches profiled per shape, the first is its verification launch; DeepGEMM's are
# `sm90_fp8_gemm*`, a warm-up and a measured one.
# NCU_PROVIDER and NCU_BENCH_ARGS profile another of fp8kit's providers at the same cells, e.g. the
# fast-accumulation tensor x tensor GEMM on block tiles retagged by gemm_decompose.sh:
#   NCU_PROVIDER=fp8-tensor-w-tensor-a-noquant NCU_BENCH_ARGS=--fast-accum scripts/ncu_gemm.sh ... OUT_DIR/configs ...
# --source: `--set full` with per-instruction stall samples, each kernel's SASS source page
# (OUT_DIR/{fp8kit,deepgemm}_N_K_M.src.csv) and details page (.details.txt) written as text and the
# reports deleted; read them anywhere with scripts/ncu_stalls.py.
# By default ncu locks the clocks to base (--clock-control base) and flushes the caches between
# passes: both kernels are compared at one clock with inputs from HBM. --warm profiles the regime
# `bench gemm`'s graph timing measures instead: caches kept (inputs stay in L2) and the boost clock.
# The two disagree: at 2112 x 7168, M = 512 fp8kit / DeepGEMM was 0.86 locked and cold, 0.88 warm,
# 0.80 in graph timing (2026-12-04). Compare cycles, not the bench's microseconds.
set -uo pipefail
source_mode=0 limit=600  # seconds of ncu a kernel and cell
regime=()
while [ "${1:-}" = --source ] || [ "${1:-}" = --warm ]; do
  if [ "$1" = --source ]; then source_mode=1 limit=120; fi
  if [ "$1" = --warm ]; then regime=(--cache-control none --clock-control none); fi
  shift
done
bin=$1 peers=$2 configs=$3 out=$4
shift 4
mkdir -p "$out"
# Totals, not only rates: a kernel that is L2-bound at one wave (2112 x 7168, M = 512) is told
# apart by the bytes it moves through L2 (reads and writes, hit rate) and the instructions it issues.
metrics=(lts__t_bytes.sum.per_second dram__bytes.sum.per_second lts__t_bytes.sum lts__t_sectors_op_read.sum
         lts__t_sectors_op_write.sum lts__t_sector_hit_rate.pct lts__t_sectors_srcunit_tex.sum
         l1tex__t_bytes_pipe_lsu_mem_global_op_ld.sum smsp__inst_executed.sum sm__cycles_elapsed.avg
         sm__cycles_active.min sm__cycles_active.avg sm__cycles_active.max)
# The active cycles' spread over SMs: at 3072 x 7168 M = 512 (one tile a CTA) ours was active 79-80% of
# the elapsed cycles on average, DeepGEMM 84-86% (session 33): a late start, or a long tail of slow CTAs?
# (128 tiles leave 4 of 132 SMs idle, so min is ~0 there: compare max with avg x 132 / 128.)
# MemoryWorkloadAnalysis_Tables: L2 requests beside sectors per source, i.e. how far the CTAs'
# requests for the same lines merge (issue 12's lead: ours reads 14% more L2 sectors at one tile).
sections=(--section SpeedOfLight --section ComputeWorkloadAnalysis --section WarpStateStats --section SchedulerStats
          --section LaunchStats --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables
          --metrics "$(IFS=,; echo "${metrics[*]}")")

# ncu ARGS... over fp8kit's bench at one cell (N, K, M from the caller's variables).
provider=${NCU_PROVIDER:-fp8-block-w-group-a-noquant}
read -r -a bench_args <<< "${NCU_BENCH_ARGS:-}"
profile_fp8kit() {
  timeout "$limit" ncu --kernel-name fp8kit_sm90_gemm "${regime[@]}" "$@" "$bin" bench gemm --providers "$provider" \
    --backends fp8kit --shapes "$n,$k" --batch-sizes "$m" --config-dir "$configs" --timing graph "${bench_args[@]}"
}

# ncu ARGS... over DeepGEMM at one cell, called twice (the first compiles and warms up).
profile_deepgemm() {
  timeout "$limit" ncu --kernel-name regex:sm90_fp8_gemm "${regime[@]}" "$@" python3 - "$peers" "$n,$k,$m" <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[1])
import peers_gemm as pg
dg = pg.import_dg()
n, k, m = map(int, sys.argv[2].split(","))
fn, _ = pg.dg_call(dg, *pg.make(m, n, k))
for _ in range(2):
    fn()
    torch.cuda.synchronize()
PY
}

# --source: report -> source page (SASS, CSV) and details page as text.
as_text() {
  ncu -i "$1.ncu-rep" --page source --print-source sass --csv > "$1.src.csv" 2>&1
  ncu -i "$1.ncu-rep" --page details > "$1.details.txt" 2>&1
  rm -f "$1.ncu-rep"
}

for nkm in "$@"; do
  IFS=, read -r n k m <<< "$nkm"
  if [ "$source_mode" = 1 ]; then
    # The GEMM's launches after its verification one (ncu_stalls.py keeps the kernels with wgmma
    # instructions); DeepGEMM's second launch is the measured one.
    profile_fp8kit --set full --launch-skip 1 --launch-count 3 -o "$out/fp8kit_${n}_${k}_${m}" \
      > "$out/fp8kit_${n}_${k}_${m}.log" 2>&1
    as_text "$out/fp8kit_${n}_${k}_${m}"
    profile_deepgemm --set full --launch-skip 1 --launch-count 1 -o "$out/deepgemm_${n}_${k}_${m}" \
      > "$out/deepgemm_${n}_${k}_${m}.log" 2>&1
    as_text "$out/deepgemm_${n}_${k}_${m}"
  else
    profile_fp8kit --launch-count 4 "${sections[@]}" > "$out/ncu_fp8kit_${n}_${k}_${m}.txt" 2>&1
    profile_deepgemm --launch-count 2 "${sections[@]}" > "$out/ncu_deepgemm_${n}_${k}_${m}.txt" 2>&1
  fi
done
if [ "$source_mode" = 1 ]; then
  grep -E "Duration|SM Frequency|Elapsed Cycles|Executed Instructions  " "$out"/*.details.txt | head -40
else
  summary="Block Size|Duration|SM Frequency|Pipe|lts__t_bytes.sum |lts__t_sectors|hit_rate|inst_executed|SM Busy|cycles_active"
  grep -E "$summary|No Eligible" "$out"/ncu_*.txt | head -120
fi
