"""Per-call host time of fp8kit's Python ops (eager, torch tensors on the GPU) beside DeepGEMM's and
torch._scaled_mm's on the same tiny shapes, where the GPU finishes each call before the host has
issued the next: N calls, one synchronize, wall time / N. Printed for docs/PERF.md.
Usage (GPU machine): DG_ROOT=/tmp/dg python3 scripts/python_host_overhead.py [--calls 5000]"""

import argparse
import os
import sys
import time

import torch

import fp8kit


def per_call_us(fn, calls):
    for _ in range(50):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / calls * 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=5000)
    args = p.parse_args()
    m, n, k = 16, 256, 512
    x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    q, sa = fp8kit.quantize(x, (1, 128), column_major=True, tma_aligned=True)
    b = torch.randn(n, k, device="cuda").to(torch.float8_e4m3fn)
    sb_raw = torch.rand((n + 127) // 128, k // 128, device="cuda") + 0.5
    sb = fp8kit.prepare_block_scales(sb_raw)
    d = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    rows = []
    rows.append(("fp8kit.quantize (1x128, out given)",
                 per_call_us(lambda: fp8kit.quantize(x, (1, 128), column_major=True, tma_aligned=True, q=q,
                                                     scales=sa), args.calls)))
    rows.append(("fp8kit.scaled_mm (group128 x block128, out given)",
                 per_call_us(lambda: fp8kit.scaled_mm(q, b, sa, sb, mode_a="group128", mode_b="block128", out=d,
                                                      backend="fp8kit"), args.calls)))
    rows.append(("fp8kit.scaled_mm (allocating)",
                 per_call_us(lambda: fp8kit.scaled_mm(q, b, sa, sb, mode_a="group128", mode_b="block128",
                                                      backend="fp8kit"), args.calls)))
    root = os.environ.get("DG_ROOT")
    if root:
        sys.path[:0] = [root]
        import deep_gemm

        sa_dg = deep_gemm.get_mn_major_tma_aligned_tensor(sa.contiguous())
        rows.append(("deep_gemm.fp8_gemm_nt (out given)",
                     per_call_us(lambda: deep_gemm.fp8_gemm_nt((q, sa_dg), (b, sb_raw), d, disable_ue8m0_cast=True),
                                 args.calls)))
    one = torch.ones(1, device="cuda")
    rows.append(("torch._scaled_mm (tensor x tensor)",
                 per_call_us(lambda: torch._scaled_mm(q, b.t(), one, one, out_dtype=torch.bfloat16), args.calls)))
    rows.append(("empty torch op (x.add_(0))", per_call_us(lambda: x.add_(0), args.calls)))
    print(f"host time per call, eager, {args.calls} calls, M={m} N={n} K={k}, {torch.cuda.get_device_name()}")
    for name, us in rows:
        print(f"  {name:55s} {us:7.2f} us")


if __name__ == "__main__":
    main()
