#!/usr/bin/env bash
# The tuner's GPU checks: a tiny tune (2 shapes x 3 M) whose files the library then uses, a
# planted faulting candidate that the tuner survives, and --resume after an interrupted run
# completing the same set of files, and a token x channel tune that bench gemm's GEMMs of that pair
# take. Exits non-zero on the first broken promise.
# Usage: scripts/gpu_tune_check.sh [DIR holding fp8kit]   (logs and files under $OUT or /tmp)
set -uo pipefail
bin="${1:-build/release}/fp8kit"
out="${OUT:-/tmp/fp8kit-tune-check}"
mkdir -p "$out"
fail() { echo "gpu_tune_check: FAILED: $*"; exit 1; }
shapes=(--shapes 576,7168 7168,2048)
sizes=(--batch-sizes 1 64 4096)

# 1. Tiny tune; every candidate whose name contains _s3_wg2 (3 stages, 2 consumers: often measured)
#    faults the GPU with an illegal address. The heuristic's own pick may be one of them (m256n128
#    rings 3 deep): its record keeps the name as default_kernel_name, but no chosen config may.
rm -rf "$out/tiny"
FP8KIT_TUNE_PLANT_FAULT=_s3_wg2 "$bin" tune "${shapes[@]}" "${sizes[@]}" --save-path "$out/tiny" \
  > "$out/tiny.log" 2>&1 || fail "tiny tune exited $? (see tiny.log)"
files=$(ls "$out/tiny"/fp8kit_w8a8_block128x128_*.json 2>/dev/null | wc -l)
[ "$files" -eq 2 ] || fail "tiny tune wrote $files files, want 2"
restarts=$(sed -n 's/.* \([0-9]\+\) worker restart(s).*/\1/p' "$out/tiny.log" | tail -1)
[ "${restarts:-0}" -ge 1 ] || fail "no worker restart: the planted fault was never hit"
grep -E '"kernel_name": "[^"]*_s3_wg2' "$out/tiny"/*.json && fail "a faulting candidate was chosen"
echo "tiny tune: 2 files, ${restarts} worker restart(s) after planted faults, no faulting config chosen"

# 2. The library uses the files: cache warm through --config-dir (the loader scaled_mm uses) finds them.
# (it warns once for each of the model's other shapes, which the tiny tune left out)
warm=$("$bin" cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 1 64 4096 --config-dir "$out/tiny" 2>/dev/null | grep -m1 '^#')
echo "$warm"
echo "$warm" | grep -Eq '\(([1-9][0-9]*) tuned' || fail "cache warm used no tuned config: $warm"

# 3. Interrupt a tune by its time budget, then resume: the same files, every M present.
rm -rf "$out/resume"
"$bin" tune "${shapes[@]}" "${sizes[@]}" --save-path "$out/resume" --time-budget 8s > "$out/resume1.log" 2>&1 \
  || fail "interrupted tune exited $?"
before=$(ls "$out/resume"/*.json 2>/dev/null | wc -l)
"$bin" tune "${shapes[@]}" "${sizes[@]}" --save-path "$out/resume" --resume > "$out/resume2.log" 2>&1 \
  || fail "resumed tune exited $?"
after=$(ls "$out/resume"/*.json 2>/dev/null | wc -l)
[ "$after" -eq 2 ] || fail "resume left $after files, want 2"
for f in "$out/resume"/*.json; do
  for m in 1 64 4096; do grep -q "\"$m\"" "$f" || fail "$f lacks M = $m"; done
done
echo "resume: $before file(s) after the interrupted run, 2 complete files after --resume"
# 4. Another scale pair: a token x channel tune writes its own file, and bench gemm's GEMMs of that
#    pair take it through --config-dir (a miss would warn "tuned configs: none ...") and verify.
rm -rf "$out/tc"
"$bin" tune --shapes 4096,4096 --batch-sizes 16 64 --mode-a token --mode-b channel --save-path "$out/tc" \
  > "$out/tc.log" 2>&1 || fail "token x channel tune exited $? (see tc.log)"
ls "$out/tc"/fp8kit_w8a8_a-token_b-channel_N=4096,K=4096,*.json > /dev/null 2>&1 || fail "no token x channel file"
"$bin" bench gemm --providers fp8-channel-w-token-a-noquant --backends fp8kit --shapes 4096,4096 --batch-sizes 16 64 \
  --config-dir "$out/tc" --out "$out/tc-bench" > "$out/tc-bench.log" 2>&1 || fail "bench over the token x channel tune exited $?"
grep -q "tuned configs: none" "$out/tc-bench.log" && fail "bench did not find the token x channel tune"
echo "token x channel: tuned into its own file, served to bench gemm's GEMMs of that pair"
echo "gpu_tune_check: all passed"
