"""CUDA-graph replay timing, as `fp8kit bench`: one graph of `calls` calls, replayed `reps` times
between events; per-call µs = elapsed / calls; median, p20, p80 over the replays."""

from __future__ import annotations

import statistics


def graph_us(fn, calls: int = 20, reps: int = 30) -> dict:
    import torch

    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):  # warm-up: JIT compiles, cuBLASLt heuristics, allocator
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    # Captured on the warmed-up stream: a library that plans per stream (fp8kit's cuBLASLt backend,
    # its split-K workspace) cannot allocate inside a capture, and torch.cuda.graph would otherwise
    # capture on a stream of its own.
    with torch.cuda.graph(graph, stream=stream):
        for _ in range(calls):
            fn()
    samples = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) * 1000.0 / calls)
    q = statistics.quantiles(samples, n=10)
    return {"us_median": statistics.median(samples), "us_p20": q[1], "us_p80": q[7]}
