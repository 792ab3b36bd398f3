"""`compare quant`: activation quantization (per-token, 1 x 128 groups with TMA-aligned
column-major scales, per-tensor) of bf16 (M, H): fp8kit (checked bit for bit against its CPU
reference) beside torch eager and torch.compile of the same math, and vLLM's kernels where vLLM
imports. µs and GB/s from graph-replay time."""

from __future__ import annotations

from . import _report, _timing

GROUPS = {"per-token": (1, -1), "group128": (1, 128), "per-tensor": (-1, -1)}


def _torch_quant(x, group):
    import torch

    if group == "per-tensor":
        s = (x.abs().amax().float() / 448.0).clamp_min(1.0 / (448.0 * 512.0))
        return (x.float() / s).clamp(-448.0, 448.0).to(torch.float8_e4m3fn), s
    g = x.shape[1] if group == "per-token" else 128
    xg = x.float().view(x.shape[0], -1, g)
    s = (xg.abs().amax(dim=-1, keepdim=True) / 448.0).clamp_min(1.0 / (448.0 * 512.0))
    return (xg / s).clamp(-448.0, 448.0).to(torch.float8_e4m3fn).view(x.shape), s.squeeze(-1)


def _vllm_quant(group):
    try:
        from vllm import _custom_ops as ops
        from vllm.model_executor.layers.quantization.utils.fp8_utils import per_token_group_quant_fp8
    except ImportError:
        return None
    if group == "group128":
        return lambda x: per_token_group_quant_fp8(x, 128, column_major_scales=True)
    if group == "per-token":
        return lambda x: ops.scaled_fp8_quant(x, use_per_token_if_dynamic=True)
    return lambda x: ops.scaled_fp8_quant(x)


def _check_fp8kit(x, group, q, scales) -> bool:
    """fp8kit's output bit for bit against its CPU reference (codes and the padded scale buffer)."""
    import numpy as np
    import torch

    from fp8kit.testing import quantize_reference

    column_major = group == "group128"
    want_q, want_s = quantize_reference(x.cpu(), GROUPS[group], column_major=column_major, tma_aligned=column_major)
    flat = scales.as_strided((want_s.size,), (1,))
    return bool(np.array_equal(q.view(torch.uint8).cpu().numpy(), want_q)
                and np.array_equal(flat.cpu().numpy().view(np.uint32), want_s.view(np.uint32)))


def run(batch_sizes, hidden_sizes, groups, peers, out_dir, seed):
    import torch

    import fp8kit

    rows = []
    compiled = torch.compile(_torch_quant, dynamic=False)
    for group in groups:
        for m in batch_sizes:
            for h in hidden_sizes:
                gen = torch.Generator(device="cuda").manual_seed(seed + m + h)
                x = torch.randn(m, h, device="cuda", generator=gen, dtype=torch.bfloat16)
                column_major = group == "group128"
                q, s = fp8kit.quantize(x, GROUPS[group], column_major=column_major, tma_aligned=column_major)
                bytes_moved = m * h * 3 + s.numel() * 4
                providers = [("fp8kit", lambda: fp8kit.quantize(x, GROUPS[group], column_major=column_major,
                                                                tma_aligned=column_major, q=q, scales=s))]
                providers += [("torch", lambda: _torch_quant(x, group)), ("torch-compile", lambda: compiled(x, group))]
                vq = _vllm_quant(group) if "vllm" in peers else None
                if vq is not None:
                    providers.append(("vllm", lambda: vq(x)))
                exact = _check_fp8kit(x, group, q, s)
                for name, fn in providers:
                    row = {"provider": name, "group": group, "m": m, "h": h}
                    if name == "fp8kit" and not exact:
                        row["status"] = "FAILED: differs from the CPU reference"
                    else:
                        row.update(_timing.graph_us(fn))
                        row["gbps"] = bytes_moved / row["us_median"] / 1e3
                    rows.append(row)
    print(_report.table(rows, [("group", "group"), ("m", "M"), ("h", "H"), ("provider", "provider"),
                               ("us_median", "us"), ("gbps", "GB/s"), ("status", "")]))
    return _report.write(rows, out_dir, "compare_quant")
