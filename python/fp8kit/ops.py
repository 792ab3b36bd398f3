"""fp8kit's ops on DLPack arrays (torch, CuPy, NumPy's CPU arrays only for argument errors): each
runs on the caller's current CUDA stream (torch's or CuPy's current stream for the input's device,
so CUDA-graph capture works), allocates
nothing when the out= forms are used, and raises TypeError or ValueError naming the argument and
the rule before any kernel is launched."""

from __future__ import annotations

from . import _arrays, meta
from ._lib import lib

_OUT_DTYPES = ("bfloat16", "float16", "float32")


def _scale_ub(scale_ub):
    if scale_ub is None:
        return None
    if isinstance(scale_ub, bool) or not isinstance(scale_ub, (int, float)):
        raise TypeError(f"scale_ub must be a number or None, got {type(scale_ub).__name__}")
    return float(scale_ub)


def _layout(granularity: str, column_major: bool, tma_aligned: bool) -> str:
    if granularity != "per-group":
        if column_major or tma_aligned:
            raise ValueError(f"column_major / tma_aligned apply to 1 x G group scales only, not {granularity}")
        return "row-major"
    if tma_aligned and not column_major:
        raise ValueError("tma_aligned needs column_major=True (TMA-aligned scales are column-major)")
    return ("col-major-tma" if tma_aligned else "col-major") if column_major else "row-major"


def quantize(x, group_shape=(1, -1), *, column_major=False, tma_aligned=False, ue8m0=False, scale_ub=None,
             static_scale=None, q=None, scales=None, impl="fp8kit", programmatic_launch=True):
    """Quantizes x (M, K) fp32/fp16/bf16 to E4M3 with vLLM's group shapes: (-1, -1) per-tensor,
    (1, -1) per-token, (1, G) per-group (G in 32, 64, 128; column_major and tma_aligned choose the
    scale layout), (128, 128) weight blocks. Returns (q, scales): scales as a (rows, cols) view of
    its padded buffer. static_scale: given scales (per-tensor, per-token, per-group), not computed.
    q= / scales= receive the results instead of new arrays (scales: the flat buffer of
    meta.scale_geometry(...).alloc_elems values, or an array with the geometry's shape and strides)."""
    granularity, group = meta.group_shape_spec(group_shape)
    layout = _layout(granularity, bool(column_major), bool(tma_aligned))
    shape = _arrays.shape_of(x, "x")
    if len(shape) != 2:
        raise ValueError(f"x must be a matrix (M, K), got shape {shape}")
    geo = meta.scale_geometry(granularity, shape[0], shape[1], group, layout)
    if q is None:
        q = _arrays.empty(x, shape, "float8_e4m3fn", "q")
    static = static_scale is not None
    if static and scales is not None:
        raise ValueError("static_scale and scales exclude each other: static scales are read, not written")
    buffer = static_scale if static else scales
    if buffer is None:
        buffer = _arrays.empty(x, (geo.alloc_elems,), "float32", "scales")
    lib().quantize(x, _arrays.fp8_bytes(q), buffer, granularity, group, layout, bool(ue8m0), _scale_ub(scale_ub),
                   static, impl, bool(programmatic_launch), _arrays.current_stream(x))
    if len(_arrays.shape_of(buffer, "scales")) == 1:
        return q, _arrays.as_strided(buffer, geo.shape, geo.strides)
    return q, buffer


def prepare_block_scales(scales_in, scales_out=None):
    """128x128 block scales (ceil(N/128), ceil(K/128)) in any strides, copied into the padded
    row-major layout the GEMM reads (leading dimension round_up(cols, 4), padding 0). Once per weight."""
    rows, cols = _arrays.shape_of(scales_in, "scales_in")
    if scales_out is None:
        scales_out = _arrays.empty(scales_in, (rows, -(-cols // 4) * 4), "float32", "scales_out")
    lib().prepare_block_scales(scales_in, scales_out, _arrays.current_stream(scales_in))
    return scales_out


def _out(a, b, out, out_dtype):
    if out_dtype not in _OUT_DTYPES:
        raise ValueError(f"out_dtype must be one of {', '.join(_OUT_DTYPES)}, got {out_dtype!r}")
    if out is not None:
        return out
    m, n = _arrays.shape_of(a, "a")[0], _arrays.shape_of(b, "b")[0]
    return _arrays.empty(a, (m, n), out_dtype, "out")


def _gemm_scales(scale, geo: meta.ScaleGeometry, arg: str):
    """The flat fp32 buffer the GEMM reads: given as is, or as its (rows, cols) view with the
    layout's strides (what fp8kit.quantize and DeepGEMM's TMA-aligned helpers return)."""
    got = _arrays.shape_of(scale, arg)
    if len(got) == 2 and got == geo.shape and got != (geo.alloc_elems, 1) and _arrays.strides_of(scale) == geo.strides:
        return _arrays.as_strided(scale, (geo.alloc_elems,), (1,))
    return scale


def scaled_mm(a, b, scale_a, scale_b, *, mode_a, mode_b, out_dtype="bfloat16", bias=None, out=None,
              backend="auto", fast_accum=False, b_is_weight=False):
    """D = A · Bᵀ: a (M, K) and b (N, K) E4M3, K-major (b as a weight is stored); scale_a / scale_b
    fp32 in the GEMM's layouts (meta.scale_a_elems / scale_b_elems: group128 (M, K/128)
    column-major with leading dimension round_up(M, 4), block128 (ceil(N/128), K/128) row-major
    with leading dimension round_up(K/128, 4)), as the flat buffer or as that strided view; modes
    "tensor"/"token"/"group128" and "tensor"/"channel"/"block128". backend: "auto", "fp8kit",
    "cublaslt", "reference". b_is_weight: b is a weight that the kernel enqueued just before does
    not write, so backend fp8kit starts loading it while that kernel finishes (linear sets it)."""
    # The GEMM reads the scales exactly as quantize writes them: 1 x 128 groups column-major
    # TMA-aligned for A, 128 x 128 blocks for B. (K % 128 != 0 is left for the library to refuse.)
    (m, k), n = _arrays.shape_of(a, "a"), _arrays.shape_of(b, "b")[0]
    if mode_a == "group128" and k % 128 == 0:
        scale_a = _gemm_scales(scale_a, meta.scale_geometry("per-group", m, k, 128, "col-major-tma"), "scale_a")
    if mode_b == "block128":
        scale_b = _gemm_scales(scale_b, meta.scale_geometry("block128", n, k), "scale_b")
    d = _out(a, b, out, out_dtype)
    lib().scaled_mm(_arrays.fp8_bytes(a), _arrays.fp8_bytes(b), mode_a, scale_a, mode_b, scale_b, d, bias, backend,
                    bool(fast_accum), bool(b_is_weight), _arrays.current_stream(a))
    return d


def linear(x, w, w_scale, *, act="token", weight="channel", out_dtype="bfloat16", bias=None, out=None,
           workspace=None, backend="auto", fast_accum=False):
    """A linear layer with dynamic activation quantization: x (M, K) bf16/fp16 quantized per `act`
    ("tensor", "token", "group128"), then scaled_mm with the E4M3 weight w (N, K) and its scales.
    workspace: a device buffer of at least meta.linear_workspace_bytes(M, K, act) bytes (uint8),
    allocated per call when omitted."""
    m, k = _arrays.shape_of(x, "x")
    if workspace is None:
        workspace = _arrays.empty(x, (meta.linear_workspace_bytes(m, k, act),), "float8_e4m3fn", "workspace")
    d = _out(x, w, out, out_dtype)
    lib().linear(x, _arrays.fp8_bytes(w), w_scale, act, weight, d, bias, _arrays.fp8_bytes(workspace), backend,
                 bool(fast_accum), _arrays.current_stream(x))
    return d


def set_config_dir(path):
    """Where backend fp8kit finds `fp8kit tune`'s files; None turns tuned configs off. Without a
    call: $FP8KIT_CONFIG_DIR, else the configs shipped with the package for this GPU."""
    if path is not None and not isinstance(path, (str, bytes)) and not hasattr(path, "__fspath__"):
        raise TypeError(f"path must be a path or None, got {type(path).__name__}")
    import os

    lib().set_config_dir(None if path is None else os.fsdecode(path))


def info() -> dict:
    """The package's version and the native library's version, git revision and build type."""
    from . import __version__

    version, revision, build_type = str(lib().build_info()).split(" ")
    return {"version": __version__, "library_version": version, "git_revision": revision, "build_type": build_type}
