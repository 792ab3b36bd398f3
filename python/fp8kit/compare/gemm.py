"""`compare gemm`: block-scaled FP8 GEMMs (1 x 128 activation groups, 128 x 128 weight blocks, bf16
out) on model shapes, each provider's output checked against the fp32 product of the dequantized
operands before it is timed: fp8kit's own kernel and its cuBLASLt backend, torch._scaled_mm's
block scaling (cuBLASLt through torch) and torch's BF16 matmul (always); DeepGEMM (DG_ROOT or an
installed deep_gemm) and vLLM's w8a8_block_fp8_matmul where they import. TFLOP/s from graph-replay
time."""

from __future__ import annotations

import os
import sys

from . import _report, _timing

# DeepSeek-V3 at tensor parallel 8: the (N, K) of its linear layers (the peers kit's set).
DSV3_TP8 = [(576, 7168), (24576, 7168), (32768, 512), (7168, 16384), (7168, 18432), (2112, 7168), (4608, 7168),
            (3072, 7168), (4096, 512), (3072, 1536), (1536, 7168), (512, 7168), (7168, 2304), (7168, 2048), (7168, 256)]


def _deep_gemm():
    root = os.environ.get("DG_ROOT")
    if root and root not in sys.path:
        sys.path.insert(0, root)
    try:
        import deep_gemm
    except ImportError:
        return None
    return deep_gemm


def _vllm_block_mm():
    try:
        from vllm.model_executor.layers.quantization.utils.fp8_utils import w8a8_block_fp8_matmul
    except ImportError:
        return None
    return w8a8_block_fp8_matmul


def _operands(m, n, k, seed):
    import torch

    import fp8kit

    gen = torch.Generator(device="cuda").manual_seed(seed)
    x = torch.randn(m, k, device="cuda", generator=gen, dtype=torch.bfloat16)
    w = torch.randn(n, k, device="cuda", generator=gen, dtype=torch.bfloat16)
    q, sa = fp8kit.quantize(x, (1, 128), column_major=True, tma_aligned=True)
    wq, sb = fp8kit.quantize(w, (128, 128))
    exact = (q.float() * sa.repeat_interleave(128, 1)[:, :k]) @ (
        wq.float() * sb.repeat_interleave(128, 0)[:n].repeat_interleave(128, 1)[:, :k]).t()
    return x, w, q, sa, wq, sb, exact


def _providers(x, w, q, sa, wq, sb, peers):
    import torch

    import fp8kit

    m, n = x.shape[0], w.shape[0]
    out = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    yield "fp8kit", lambda: fp8kit.scaled_mm(q, wq, sa, sb, mode_a="group128", mode_b="block128", out=out,
                                             backend="fp8kit"), out
    out_lt = torch.empty_like(out)
    if m % 4 == 0:  # cuBLASLt's block-scaled kernel needs M % 4 == 0
        yield "cublaslt", lambda: fp8kit.scaled_mm(q, wq, sa, sb, mode_a="group128", mode_b="block128", out=out_lt,
                                                   backend="cublaslt"), out_lt
    # torch hands cuBLASLt the 128 x 128 scales without the row stride it requires (round_up(K/128, 4)):
    # its result is right only where K/128 % 4 == 0 (the peers kit's finding), so other K are skipped.
    if m % 4 == 0 and (q.shape[1] // 128) % 4 == 0:
        sa_cols, sb_t = sa.t().contiguous().t(), sb.contiguous().t()  # scale_a column-major, unpadded
        yield "torch-scaled-mm", lambda: torch._scaled_mm(q, wq.t(), scale_a=sa_cols, scale_b=sb_t,
                                                          out_dtype=torch.bfloat16), None
    out_bf16 = torch.empty_like(out)
    yield "torch-bf16", lambda: torch.matmul(x, w.t(), out=out_bf16), out_bf16
    sb_plain = sb.contiguous()
    dg = _deep_gemm() if "deepgemm" in peers else None
    if dg is not None:
        sa_dg = dg.get_mn_major_tma_aligned_tensor(sa.contiguous())
        out_dg = torch.empty_like(out)
        yield "deepgemm", lambda: dg.fp8_gemm_nt((q, sa_dg), (wq, sb_plain), out_dg, disable_ue8m0_cast=True), out_dg
    vllm_mm = _vllm_block_mm() if "vllm" in peers else None
    if vllm_mm is not None:
        sa_rows = sa.contiguous()
        yield "vllm", lambda: vllm_mm(q, wq, sa_rows, sb_plain, [128, 128], torch.bfloat16), None


def run(shapes, batch_sizes, peers, out_dir, seed):
    import torch

    rows = []
    for n, k in shapes:
        for m in batch_sizes:
            x, w, q, sa, wq, sb, exact = _operands(m, n, k, seed + m + n + k)
            bf16_exact = x.float() @ w.float().t()
            for name, fn, out in _providers(x, w, q, sa, wq, sb, peers):
                try:
                    got = fn() if out is None else (fn(), out)[1]
                    torch.cuda.synchronize()
                except (RuntimeError, ValueError) as e:  # a peer that refuses the shape: say so, go on
                    rows.append({"provider": name, "m": m, "n": n, "k": k, "status": f"error: {str(e)[:80]}"})
                    print(f"  {n} x {k}, M = {m}: {name} {rows[-1]['status']}", flush=True)
                    continue
                want = bf16_exact if name == "torch-bf16" else exact
                err = ((got.float() - want).norm() / want.norm().clamp_min(1e-30)).item()
                row = {"provider": name, "m": m, "n": n, "k": k, "rel_error": err}
                if err < 2e-2:  # verified before it is timed
                    row.update(_timing.graph_us(fn))
                    row["tflops"] = 2.0 * m * n * k / row["us_median"] / 1e6
                else:
                    row["status"] = f"FAILED: relative error {err:.3g}"
                rows.append(row)
                # A line per measurement as it lands: a run cut short by a time limit keeps what it measured.
                print(f"  {n} x {k}, M = {m}: {name} " + (f"{row['us_median']:.2f} us" if "us_median" in row
                                                          else row["status"]), flush=True)
    print(_report.table(rows, [("n", "N"), ("k", "K"), ("m", "M"), ("provider", "provider"), ("tflops", "TFLOP/s"),
                               ("us_median", "us"), ("rel_error", "rel err"), ("status", "")]))
    return _report.write(rows, out_dir, "compare_gemm")
