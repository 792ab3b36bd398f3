"""A drop-in for vLLM's block-FP8 linear: `w8a8_block_fp8_matmul(A, B, As, Bs, block_size,
output_dtype)` with vLLM's signature and scale layouts, on fp8kit's own Hopper kernel.

  A  (..., K) float8_e4m3fn activations, quantized per 1 x 128 group
  B  (N, K) float8_e4m3fn weight
  As (..., K/128) fp32, row- or column-major (vLLM passes either)
  Bs (ceil(N/128), ceil(K/128)) fp32
  block_size [128, 128] (fp8kit's kernel supports that block only)

The layouts are converted, never reinterpreted: As into the GEMM's column-major, 4-row-aligned
buffer (one small copy a call unless it already is one: fp8kit.quantize(..., column_major=True,
tma_aligned=True) returns that), Bs into its padded row-major copy once per weight (cached by
storage, version and shape). Swap it in with vLLM's hook or a monkeypatch, see docs/PYTHON.md.

Checked by tests/python/test_gpu.py (error no worse than vLLM's Triton kernel)."""

from __future__ import annotations

import weakref

from . import meta

# Weight scales in the GEMM's padded layout: id(Bs) -> (weak reference to Bs, key, padded copy).
# Not a WeakKeyDictionary: tensors compare elementwise, so a lookup by tensor raises.
_WEIGHT_SCALES: dict = {}


def _forget(ident: int, ref) -> None:
    entry = _WEIGHT_SCALES.get(ident)
    if entry is not None and entry[0] is ref:  # not a newer tensor that took the same id
        del _WEIGHT_SCALES[ident]


def _activation_scales(As, m: int, k: int):
    geo = meta.scale_geometry("per-group", m, k, 128, "col-major-tma")  # the GEMM's group128 layout
    if tuple(As.shape) != geo.shape:
        raise ValueError(f"As must be (M, K/128) = {geo.shape} after flattening A's leading dims, "
                         f"got {tuple(As.shape)}")
    if tuple(As.stride()) == geo.strides:
        return As  # already the GEMM's layout (a strided view of the padded buffer)
    import torch

    buf = torch.zeros((geo.alloc_elems,), dtype=torch.float32, device=As.device)
    buf.as_strided(geo.shape, geo.strides).copy_(As)
    return buf


def _weight_scales(Bs, n: int, k: int):
    shape = meta.scale_geometry("block128", n, k).shape
    if tuple(Bs.shape) != shape:
        raise ValueError(f"Bs must be (ceil(N/128), ceil(K/128)) = {shape}, got {tuple(Bs.shape)}")
    key = (Bs._version, Bs.data_ptr(), tuple(Bs.stride()))
    ident = id(Bs)
    entry = _WEIGHT_SCALES.get(ident)
    if entry is not None and entry[0]() is Bs and entry[1] == key:
        return entry[2]
    from . import ops

    padded = ops.prepare_block_scales(Bs.float())
    _WEIGHT_SCALES[ident] = (weakref.ref(Bs, lambda ref: _forget(ident, ref)), key, padded)
    return padded


def w8a8_block_fp8_matmul(A, B, As, Bs, block_size, output_dtype=None):
    """vLLM's signature; output_dtype defaults to torch.float16 as vLLM's does."""
    import torch

    from . import torch_ops

    output_dtype = torch.float16 if output_dtype is None else output_dtype
    if list(block_size) != [128, 128]:
        raise ValueError(f"block_size must be [128, 128] (fp8kit's block-scaled kernel), got {list(block_size)}")
    if A.dtype != torch.float8_e4m3fn or B.dtype != torch.float8_e4m3fn:
        raise TypeError(f"A and B must be float8_e4m3fn, got {A.dtype} and {B.dtype}")
    if As.dtype != torch.float32 or Bs.dtype != torch.float32:
        raise TypeError(f"As and Bs must be float32, got {As.dtype} and {Bs.dtype}")
    if output_dtype not in (torch.bfloat16, torch.float16, torch.float32):
        raise TypeError(f"output_dtype must be bfloat16, float16 or float32, got {output_dtype}")
    k = A.shape[-1]
    n = B.shape[0]
    if B.dim() != 2 or B.shape[1] != k:
        raise ValueError(f"B must be (N, K) with K = {k}, got {tuple(B.shape)}")
    a = A.reshape(-1, k)
    m = a.shape[0]
    sa = _activation_scales(As.reshape(m, -1), m, k)
    sb = _weight_scales(Bs, n, k)
    # B is the layer's weight: it streams while the activation quantization before this call finishes.
    out = torch_ops.scaled_mm(a, B, sa, sb, "group128", "block128", output_dtype, None, "fp8kit", False, True)
    return out.view(*A.shape[:-1], n)
