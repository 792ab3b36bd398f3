"""`python -m fp8kit.compare gemm|quant`: vLLM's bench_fp8_gemm.py and bench_per_token_quant_fp8.py
comparisons in one process and one table: fp8kit beside torch (always) and vLLM's kernels and
DeepGEMM where they import (detected at run time, never vendored). Same method as the C++ bench:
outputs verified before timing, CUDA-graph replay, median with p20/p80; JSONL and CSV out.
Importing this package needs no torch; running it does. `quant` ran on an H200 (2026-12-04); `gemm`
has not finished a GPU run yet (see docs/PERF.md, session 12)."""
