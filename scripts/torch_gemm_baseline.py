"""Same-run baseline for `fp8kit bench gemm` (DESIGN.md §7): torch._scaled_mm (FP8
per-tensor and row-wise = channel/token scales, bf16 out) and a BF16 matmul on given (N, K) shapes
and batch sizes, timed like fp8kit: CUDA-graph replay of many calls, median of event-timed
replays. Runs on the GPU machine, where PyTorch is installed; prints one line per measurement.

  python3 scripts/torch_gemm_baseline.py --shapes 6144,4096 4096,4096 --batch-sizes 128 4096
"""
import argparse
import statistics

import torch


def time_graph(fn, target_ms=10.0):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(5):
        fn()
    end.record()
    end.synchronize()
    calls = max(1, min(2000, int(target_ms / max(start.elapsed_time(end) / 5, 1e-4))))
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(calls):
            fn()
    for _ in range(3):
        g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(25):
        start.record()
        g.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / calls)
    return statistics.median(times)


def check(out, ref):
    err = ((out.float() - ref).norm() / ref.norm()).item()
    assert err < 1e-2, f"relative error {err}"


def bench_shape(m, n, k):
    a16 = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b16 = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    a = a16.to(torch.float8_e4m3fn)
    b = b16.to(torch.float8_e4m3fn)
    one = torch.tensor(1.0, device="cuda")
    sa_row = torch.ones(m, 1, device="cuda")
    sb_row = torch.ones(1, n, device="cuda")
    ref = a.float() @ b.float().t()
    check(torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16), ref)
    check(torch._scaled_mm(a, b.t(), scale_a=sa_row, scale_b=sb_row, out_dtype=torch.bfloat16), ref)
    flops = 2.0 * m * n * k
    cases = [
        ("torch-bf16", lambda: a16 @ b16.t()),
        ("torch-fp8-tensor-w-tensor-a-noquant",
         lambda: torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)),
        ("torch-fp8-channel-w-token-a-noquant",
         lambda: torch._scaled_mm(a, b.t(), scale_a=sa_row, scale_b=sb_row, out_dtype=torch.bfloat16)),
    ]
    for name, fn in cases:
        ms = time_graph(fn)
        print(f"[torch] {name} m={m} n={n} k={k}: {ms * 1e3:.2f} us, {flops / (ms * 1e9):.1f} TFLOP/s", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shapes", nargs="+", default=["8192,8192"], help="N,K pairs")
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[8192])
    args = p.parse_args()
    print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(), flush=True)
    torch.manual_seed(0)
    for shape in args.shapes:
        n, k = (int(v) for v in shape.split(","))
        for m in args.batch_sizes:
            bench_shape(m, n, k)


if __name__ == "__main__":
    main()
