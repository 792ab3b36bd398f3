"""Same-run comparison for the cuBLASLt ceilings (DESIGN.md §7): torch._scaled_mm FP8 per-tensor
and a BF16 matmul at 8192^3, CUDA-graph replay, median of event-timed replays. Prints TFLOP/s."""
import statistics

import torch

N = 8192
CALLS = 20


def time_graph(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(CALLS):
            fn()
    g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(15):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        g.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / CALLS)
    return statistics.median(times)


def main():
    torch.manual_seed(0)
    a = (torch.randn(N, N, device="cuda") * 4).to(torch.float8_e4m3fn)
    b = (torch.randn(N, N, device="cuda") * 4).to(torch.float8_e4m3fn)
    s = torch.tensor(1.0 / 64, device="cuda")
    a16 = torch.randn(N, N, device="cuda", dtype=torch.bfloat16)
    b16 = torch.randn(N, N, device="cuda", dtype=torch.bfloat16)
    out = torch._scaled_mm(a, b.t(), scale_a=s, scale_b=s, out_dtype=torch.bfloat16)
    ref = (a.float() @ b.float().t()) * (s * s)
    err = ((out.float() - ref).norm() / ref.norm()).item()
    assert err < 1e-2, f"torch._scaled_mm relative error {err}"
    flops = 2.0 * N * N * N
    for name, fn in [
        ("torch._scaled_mm fp8 per-tensor", lambda: torch._scaled_mm(a, b.t(), scale_a=s, scale_b=s, out_dtype=torch.bfloat16)),
        ("torch._scaled_mm fp8 per-tensor fast_accum", lambda: torch._scaled_mm(a, b.t(), scale_a=s, scale_b=s, out_dtype=torch.bfloat16, use_fast_accum=True)),
        ("torch bf16 matmul", lambda: a16 @ b16.t()),
    ]:
        ms = time_graph(fn)
        print(f"[perf] {name} 8192^3: median {ms * 1e3:.1f} us -> {flops / (ms * 1e9):.1f} TFLOP/s")
    print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())


if __name__ == "__main__":
    main()
