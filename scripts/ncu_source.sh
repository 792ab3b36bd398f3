#!/usr/bin/env bash
# Per-instruction stall samples of fp8kit's block-scaled GEMM and DeepGEMM's at the same (N, K, M),
# for the GPU machine: `ncu --set full` of each, the SASS source page (stall reasons and executed
# counts per instruction) and the details page written as text, the reports deleted.
# Usage: scripts/ncu_source.sh FP8KIT_BIN PEERS_DIR CONFIG_DIR OUT_DIR N,K,M [N,K,M ...]
#   PEERS_DIR: a copy of ../shared/peers with DeepGEMM built (build_dg.sh, DG_ROOT set).
# Read the results anywhere with scripts/ncu_stalls.py OUT_DIR/*.src.csv. ncu locks the clocks to
# base and flushes the caches between passes: compare cycles, not the bench's microseconds.
set -uo pipefail
bin=$1 peers=$2 configs=$3 out=$4
shift 4
mkdir -p "$out"
as_text() {  # report -> source page (SASS, CSV) and details page
  ncu -i "$1.ncu-rep" --page source --print-source sass --csv > "$1.src.csv" 2>&1
  ncu -i "$1.ncu-rep" --page details > "$1.details.txt" 2>&1
  rm -f "$1.ncu-rep"
}
for nkm in "$@"; do
  IFS=, read -r n k m <<< "$nkm"
  # fp8kit's JIT kernels are all fp8kit_entry: of the launches after the first, the GEMM's has 384
  # threads (ncu_stalls.py keeps the kernels with wgmma instructions).
  timeout 120 ncu --set full --kernel-name fp8kit_entry --launch-skip 1 --launch-count 3 -o "$out/fp8kit_$n" \
    "$bin" bench gemm --providers fp8-block-w-group-a-noquant --backends fp8kit --shapes "$n,$k" \
    --batch-sizes "$m" --config-dir "$configs" --timing graph > "$out/fp8kit_$n.log" 2>&1
  as_text "$out/fp8kit_$n"
  timeout 120 ncu --set full --kernel-name regex:sm90_fp8_gemm --launch-skip 1 --launch-count 1 -o "$out/deepgemm_$n" \
    python3 - "$peers" "$nkm" > "$out/deepgemm_$n.log" 2>&1 <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[1])
import peers_gemm as pg
dg = pg.import_dg()
n, k, m = map(int, sys.argv[2].split(","))
fn, _ = pg.dg_call(dg, *pg.make(m, n, k))
for _ in range(2):  # the first compiles and warms up; the second is profiled
    fn()
    torch.cuda.synchronize()
PY
  as_text "$out/deepgemm_$n"
done
grep -E "Duration|SM Frequency|Elapsed Cycles|Executed Instructions  " "$out"/*.details.txt | head -40
