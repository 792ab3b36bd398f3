"""Oracles for tests: fp8kit's CPU reference quantizer (src/core/ref_quant.cpp), the definition the
GPU kernels match bit for bit. Needs NumPy."""

from __future__ import annotations

from . import _arrays, meta
from ._lib import lib
from .ops import _layout


def quantize_reference(x, group_shape=(1, -1), *, column_major=False, tma_aligned=False, ue8m0=False, scale_ub=None):
    """(q, scales) of a host array x (rows, cols) fp32/fp16/bf16 (NumPy, or torch on the CPU): q as
    (rows, cols) uint8 E4M3 codes, scales as the flat fp32 buffer of meta.scale_geometry's alloc_elems
    values, padding 0 (dynamic scales only)."""
    import numpy as np

    granularity, group = meta.group_shape_spec(group_shape)
    layout = _layout(granularity, bool(column_major), bool(tma_aligned))
    rows, cols = _arrays.shape_of(x, "x")
    geo = meta.scale_geometry(granularity, rows, cols, group, layout)
    q = np.empty((rows, cols), np.uint8)
    scales = np.empty((geo.alloc_elems,), np.float32)
    lib().quantize_reference(x, q, scales, granularity, group, layout, bool(ue8m0),
                             None if scale_ub is None else float(scale_ub))
    return q, scales
