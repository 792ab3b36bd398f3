"""Shapes without a GPU, torch or the extension: the scale tensors' geometry of every quantization
granularity and of the GEMM's scale modes, mirroring fp8kit's C++ rules (src/core/quant_spec.cpp,
src/core/gemm_spec.cpp; the tests compare the two over a sweep). torch's fake (meta) kernels and the
output-allocating forms of the ops use these."""

from __future__ import annotations

from dataclasses import dataclass

GRANULARITIES = ("per-tensor", "per-token", "per-channel", "per-group", "block128")
LAYOUTS = ("row-major", "col-major", "col-major-tma")
SCALE_MODES_A = ("tensor", "token", "group128")
SCALE_MODES_B = ("tensor", "channel", "block128")
GROUP_SIZES = (32, 64, 128)
_BLOCK = 128  # 128 x 128 weight blocks; 128-wide K scale blocks of the GEMM
_ROW_ALIGN = 4  # 4 fp32 = 16 bytes, what TMA and cuBLASLt need


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _round_up(a: int, b: int) -> int:
    return _ceil_div(a, b) * b


@dataclass(frozen=True)
class ScaleGeometry:
    """The fp32 scale tensor of a quantization: logical shape (rows, cols), element strides, and the
    buffer's size in elements, padding included."""

    rows: int
    cols: int
    row_stride: int
    col_stride: int
    alloc_elems: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    @property
    def strides(self) -> tuple[int, int]:
        return (self.row_stride, self.col_stride)


def _check_spec(granularity: str, group_size: int, layout: str, rows: int, cols: int) -> None:
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity '{granularity}' (one of: {', '.join(GRANULARITIES)})")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown scale layout '{layout}' (one of: {', '.join(LAYOUTS)})")
    if rows < 0 or cols < 0:
        raise ValueError(f"quantize: shape (rows, cols) = ({rows}, {cols}) has a negative extent")
    if granularity == "per-group":
        if group_size not in GROUP_SIZES:
            raise ValueError(f"quantize: group_size = {group_size} is not supported "
                             "(per-group needs G in {32, 64, 128})")
        if cols % group_size != 0:
            raise ValueError(f"quantize: cols (K) = {cols} is not a multiple of group_size {group_size}")
    elif layout != "row-major":
        raise ValueError(f"quantize: scale layout {layout} applies only to per-group scales, not {granularity}")


def scale_geometry(granularity: str, rows: int, cols: int, group_size: int = 128,
                   layout: str = "row-major") -> ScaleGeometry:
    """The scale tensor of quantizing a (rows, cols) input (C++: fp8kit::scale_geometry)."""
    _check_spec(granularity, group_size, layout, rows, cols)
    if granularity == "per-tensor":
        return ScaleGeometry(1, 1, 1, 1, 1)
    if granularity in ("per-token", "per-channel"):
        return ScaleGeometry(rows, 1, 1, 1, rows)
    if granularity == "per-group":
        groups = cols // group_size
        if layout == "row-major":
            return ScaleGeometry(rows, groups, groups, 1, rows * groups)
        ld = rows if layout == "col-major" else _round_up(rows, _ROW_ALIGN)
        return ScaleGeometry(rows, groups, 1, ld, ld * groups)
    block_rows, block_cols = _ceil_div(rows, _BLOCK), _ceil_div(cols, _BLOCK)
    ld = _round_up(block_cols, _ROW_ALIGN)
    return ScaleGeometry(block_rows, block_cols, ld, 1, block_rows * ld)


def _check_extents(**extents: int) -> None:
    for name, value in extents.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


def scale_a_elems(mode: str, m: int, k: int) -> int:
    """fp32 values of the GEMM's A scales: tensor 1, token M, group128 (M, K/128) column-major
    with leading dimension round_up(M, 4)."""
    _check_extents(M=m, K=k)
    if mode == "tensor":
        return 1
    if mode == "token":
        return m
    if mode == "group128":
        return _ceil_div(k, _BLOCK) * _round_up(m, _ROW_ALIGN)
    raise ValueError(f"unknown A scale mode '{mode}' (one of: {', '.join(SCALE_MODES_A)})")


def scale_b_elems(mode: str, n: int, k: int) -> int:
    """fp32 values of the GEMM's B scales: tensor 1, channel N, block128 (ceil(N/128), K/128)
    row-major with leading dimension round_up(K/128, 4)."""
    _check_extents(N=n, K=k)
    if mode == "tensor":
        return 1
    if mode == "channel":
        return n
    if mode == "block128":
        return _ceil_div(n, _BLOCK) * _round_up(_ceil_div(k, _BLOCK), _ROW_ALIGN)
    raise ValueError(f"unknown B scale mode '{mode}' (one of: {', '.join(SCALE_MODES_B)})")


def linear_workspace_bytes(m: int, k: int, act: str) -> int:
    """Bytes of fp8kit.linear's workspace: the (M, K) E4M3 activations, then their scales, each
    part 256-byte aligned."""
    _check_extents(M=m, K=k)
    return _round_up(m * k, 256) + _round_up(scale_a_elems(act, m, k) * 4, 256)


def group_shape_spec(group_shape) -> tuple[str, int]:
    """vLLM's GroupShape (rows, cols) as (granularity, group_size): (-1, -1) per-tensor, (1, -1)
    per-token, (1, G) per-group with G in {32, 64, 128}, (128, 128) 128x128 blocks. The names
    themselves ("per-token", ...) are accepted too."""
    if isinstance(group_shape, str):
        if group_shape not in GRANULARITIES or group_shape == "per-group":
            raise ValueError(f"group_shape '{group_shape}': name one of per-tensor, per-token, per-channel, block128, "
                             "or give (1, G) for groups")
        return group_shape, 128
    try:
        rows, cols = (int(v) for v in group_shape)
    except (TypeError, ValueError):
        raise TypeError(f"group_shape must be a (rows, cols) pair or a name, got {group_shape!r}") from None
    table = {(-1, -1): ("per-tensor", 128), (1, -1): ("per-token", 128), (128, 128): ("block128", 128)}
    if (rows, cols) in table:
        return table[(rows, cols)]
    if rows == 1 and cols in GROUP_SIZES:
        return "per-group", cols
    raise ValueError(f"group_shape {tuple(group_shape)} is not supported: (-1, -1), (1, -1), (1, G) with G in "
                     "{32, 64, 128}, or (128, 128)")
