"""fp8kit's ops as torch custom ops (torch.ops.fp8kit.*), with fake (meta) kernels, so that
torch.compile(fullgraph=True) traces through them and CUDA graphs capture them. Importing this
module registers them (it imports torch); `import fp8kit` never does.

tests/python/test_gpu.py's torch.compile(fullgraph=True) and CUDA-graph tests check them on a GPU
(passed on an H200 with torch 2.11: docs/PERF.md, session 10)."""

from __future__ import annotations

from typing import Optional

import torch

from . import _arrays, meta, ops
from ._lib import lib

_LIB = "fp8kit"


def _spec(x: torch.Tensor, granularity: str, group_size: int, layout: str) -> meta.ScaleGeometry:
    rows, cols = x.shape
    return meta.scale_geometry(granularity, rows, cols, group_size, layout)


@torch.library.custom_op(f"{_LIB}::quantize", mutates_args=(), device_types="cuda")
def quantize(x: torch.Tensor, granularity: str, group_size: int, layout: str, ue8m0: bool,
             scale_ub: Optional[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic quantization: (q, the flat fp32 scale buffer of meta.scale_geometry's alloc_elems)."""
    geo = _spec(x, granularity, group_size, layout)
    q = torch.empty(x.shape, dtype=torch.float8_e4m3fn, device=x.device)
    scales = torch.empty((geo.alloc_elems,), dtype=torch.float32, device=x.device)
    lib().quantize(x, _arrays.fp8_bytes(q), scales, granularity, group_size, layout, ue8m0, scale_ub, False, "fp8kit",
                   True, _arrays.current_stream(x))
    return q, scales


@quantize.register_fake
def _quantize_fake(x, granularity, group_size, layout, ue8m0, scale_ub):
    geo = _spec(x, granularity, group_size, layout)
    return x.new_empty(x.shape, dtype=torch.float8_e4m3fn), x.new_empty((geo.alloc_elems,), dtype=torch.float32)


@torch.library.custom_op(f"{_LIB}::quantize_out", mutates_args=("q", "scales"), device_types="cuda")
def quantize_out(x: torch.Tensor, q: torch.Tensor, scales: torch.Tensor, granularity: str, group_size: int,
                 layout: str, ue8m0: bool, scale_ub: Optional[float], static_scales: bool) -> None:
    """The out= form: q and scales (flat buffer; read when static_scales) given."""
    lib().quantize(x, _arrays.fp8_bytes(q), scales, granularity, group_size, layout, ue8m0, scale_ub, static_scales,
                   "fp8kit", True, _arrays.current_stream(x))


@quantize_out.register_fake
def _quantize_out_fake(x, q, scales, granularity, group_size, layout, ue8m0, scale_ub, static_scales):
    return None


@torch.library.custom_op(f"{_LIB}::scaled_mm", mutates_args=(), device_types="cuda")
def scaled_mm(a: torch.Tensor, b: torch.Tensor, scale_a: torch.Tensor, scale_b: torch.Tensor, mode_a: str,
              mode_b: str, out_dtype: torch.dtype, bias: Optional[torch.Tensor], backend: str,
              fast_accum: bool, b_is_weight: bool = False) -> torch.Tensor:
    """D = A · Bᵀ (fp8kit.scaled_mm); scales as flat buffers or their strided views."""
    name = str(out_dtype).removeprefix("torch.")
    return ops.scaled_mm(a, b, scale_a, scale_b, mode_a=mode_a, mode_b=mode_b, out_dtype=name, bias=bias,
                         backend=backend, fast_accum=fast_accum, b_is_weight=b_is_weight)


@scaled_mm.register_fake
def _scaled_mm_fake(a, b, scale_a, scale_b, mode_a, mode_b, out_dtype, bias, backend, fast_accum, b_is_weight=False):
    return a.new_empty((a.shape[0], b.shape[0]), dtype=out_dtype)
