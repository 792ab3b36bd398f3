"""Output arrays of the array library the caller uses (torch, CuPy, NumPy), allocated where the
inputs live. fp8kit itself only reads DLPack: these helpers exist for the allocating forms."""

from __future__ import annotations

import contextlib

_FP8 = "float8_e4m3fn"


def library(x) -> str:
    module = type(x).__module__.split(".")[0]
    return "jax" if module == "jaxlib" else module


def shape_of(x, arg: str) -> tuple[int, ...]:
    try:
        return tuple(int(d) for d in x.shape)
    except (AttributeError, TypeError):
        kind = type(x).__name__
        raise TypeError(f"{arg} must be an array (torch, CuPy, NumPy: anything with DLPack), got {kind}") from None


def strides_of(x) -> tuple[int, ...]:
    """Element strides (torch's stride(); CuPy's and NumPy's byte strides divided by the item size)."""
    if library(x) == "torch":
        return tuple(x.stride())
    return tuple(s // x.dtype.itemsize for s in x.strides)


def empty(like, shape: tuple[int, ...], dtype: str, arg: str):
    """An uninitialized array of `dtype` ("float8_e4m3fn", "float32", "bfloat16", "float16") on
    `like`'s device. Libraries without an fp8 dtype get uint8 (the extension takes that view)."""
    lib = library(like)
    if lib == "torch":
        import torch

        return torch.empty(shape, dtype=getattr(torch, dtype), device=like.device)
    if lib in ("cupy", "numpy"):
        xp = __import__(lib)
        if dtype == "bfloat16":
            raise TypeError(f"{lib} has no bfloat16: pass {arg}= as an array of that dtype")
        with like.device if lib == "cupy" else contextlib.nullcontext():
            return xp.empty(shape, dtype="uint8" if dtype == _FP8 else dtype)
    raise TypeError(f"cannot allocate {arg} for a {type(like).__name__} input: pass {arg}= (JAX arrays are immutable)")


def fp8_bytes(x):
    """A torch float8 tensor as its uint8 view (the extension takes E4M3 either way): DLPack export
    of float8 dtypes is recent in torch, the bytes' view is not."""
    if library(x) == "torch" and x.dtype.itemsize == 1 and x.dtype.is_floating_point:
        import torch

        return x.view(torch.uint8)
    return x


def current_stream(x) -> int:
    """The handle of the stream the caller's library would run on for x's device: torch's or CuPy's
    current stream; -1 (the extension then takes TVM-FFI's stream for the device) otherwise."""
    lib = library(x)
    if lib == "torch" and x.is_cuda:
        import torch

        return torch.cuda.current_stream(x.device).cuda_stream
    if lib == "cupy":
        import cupy

        with x.device:
            return cupy.cuda.get_current_stream().ptr
    return -1


def as_strided(buffer, shape: tuple[int, ...], strides: tuple[int, ...]):
    """A view of a flat buffer with element strides (the scales' padded layouts)."""
    lib = library(buffer)
    if lib == "torch":
        return buffer.as_strided(shape, strides)
    xp = __import__(lib)
    item = buffer.dtype.itemsize
    return xp.lib.stride_tricks.as_strided(buffer, shape=shape, strides=tuple(s * item for s in strides))
