"""The extension _fp8kit_ffi (python/csrc), loaded on first use through TVM-FFI, so that importing
fp8kit needs neither a GPU nor torch. FP8KIT_FFI_LIBRARY names another build of it (development)."""

from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=None)
def lib():
    import tvm_ffi

    path = os.environ.get("FP8KIT_FFI_LIBRARY") or os.path.join(os.path.dirname(__file__), "_fp8kit_ffi.so")
    if not os.path.exists(path):
        raise ImportError(f"fp8kit's extension {path} is missing: install the package with `pip install .`")
    return tvm_ffi.load_module(path)
