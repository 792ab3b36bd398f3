#!/usr/bin/env bash
# ncu of fp8kit's block-scaled GEMM and DeepGEMM's at the same (N, K, M), for the GPU machine.
# Usage: scripts/ncu_gemm.sh FP8KIT_BIN PEERS_DIR CONFIG_DIR OUT_DIR N,K,M [N,K,M ...]
#   FP8KIT_BIN  the fp8kit CLI;  PEERS_DIR  a copy of ../shared/peers with DeepGEMM built
#   (build_dg.sh, DG_ROOT set);  CONFIG_DIR  tuned configs for fp8kit, or none.
# Writes OUT_DIR/ncu_fp8kit_N_K_M.txt and OUT_DIR/ncu_deepgemm.txt. fp8kit's JIT kernels are all
# `fp8kit_entry`: of the 4 launches profiled per shape, the GEMM's have block size 384 (the first
# is its verification launch); DeepGEMM's are `sm90_fp8_gemm*`, a warm-up and a measured one a shape.
set -euo pipefail
bin=$1 peers=$2 configs=$3 out=$4
shift 4
mkdir -p "$out"
# Totals, not only rates: a kernel that is L2-bound at one wave (2112 x 7168, M = 512) is told
# apart by the bytes it moves through L2 (reads and writes, hit rate) and the instructions it issues.
metrics=(lts__t_bytes.sum.per_second dram__bytes.sum.per_second lts__t_bytes.sum lts__t_sectors_op_read.sum
         lts__t_sectors_op_write.sum lts__t_sector_hit_rate.pct lts__t_sectors_srcunit_tex.sum
         l1tex__t_bytes_pipe_lsu_mem_global_op_ld.sum smsp__inst_executed.sum sm__cycles_elapsed.avg)
# ComputeWorkloadAnalysis: the tensor pipe's share. ncu locks the clocks to base (--clock-control
# base, its default): both kernels are compared at one clock, so a gap that shows in `bench gemm`
# but not here is clock or power, not the kernel's schedule.
sections=(--section SpeedOfLight --section ComputeWorkloadAnalysis --section WarpStateStats --section SchedulerStats
          --section LaunchStats
          --metrics "$(IFS=,; echo "${metrics[*]}")")
for nkm in "$@"; do
  IFS=, read -r n k m <<< "$nkm"
  ncu --kernel-name fp8kit_entry --launch-count 4 "${sections[@]}" "$bin" bench gemm \
    --providers fp8-block-w-group-a-noquant --backends fp8kit --shapes "$n,$k" --batch-sizes "$m" \
    --config-dir "$configs" --timing graph > "$out/ncu_fp8kit_${n}_${k}_${m}.txt" 2>&1
done
ncu --kernel-name regex:sm90_fp8_gemm --launch-count $((2 * $#)) "${sections[@]}" python3 - "$peers" "$@" \
  > "$out/ncu_deepgemm.txt" 2>&1 <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[1])
import peers_gemm as pg
dg = pg.import_dg()
for arg in sys.argv[2:]:
    n, k, m = map(int, arg.split(","))
    fn, _ = pg.dg_call(dg, *pg.make(m, n, k))
    for _ in range(2):  # the first compiles and warms up; both are profiled
        fn()
        torch.cuda.synchronize()
PY
grep -E "Block Size|Duration|SM Frequency|Pipe|lts__t_bytes.sum |lts__t_sectors|hit_rate|inst_executed|SM Busy|No Eligible" "$out"/ncu_*.txt | head -120
