"""The extension _fp8kit_ffi (python/csrc), loaded on first use through TVM-FFI, so that importing
fp8kit needs neither a GPU nor torch. FP8KIT_FFI_LIBRARY names another build of it (development)."""

from __future__ import annotations

import ctypes
import functools
import os

_CUDA_LIBRARIES = ("libnvrtc.so.13", "libcublasLt.so.13")


def _preload_cuda_toolkit() -> None:
    """NVRTC and cuBLASLt from the CUDA toolkit ($CUDA_HOME, else /usr/local/cuda) when neither
    NVIDIA's wheels nor the loader's path provide them."""
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    for name in _CUDA_LIBRARIES:
        for sub in ("lib64", "lib", "targets/x86_64-linux/lib"):
            path = os.path.join(home, sub, name)
            if os.path.exists(path):
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                break


@functools.lru_cache(maxsize=None)
def lib():
    import tvm_ffi

    path = os.environ.get("FP8KIT_FFI_LIBRARY") or os.path.join(os.path.dirname(__file__), "_fp8kit_ffi.so")
    if not os.path.exists(path):
        raise ImportError(f"fp8kit's extension {path} is missing: install the package with `pip install .`")
    try:
        return tvm_ffi.load_module(path)
    except Exception as first:  # a CUDA 13 library the loader did not find
        _preload_cuda_toolkit()
        try:
            return tvm_ffi.load_module(path)
        except Exception:
            raise ImportError(f"cannot load {path}: {first} (it needs the CUDA 13 runtime libraries "
                              f"{', '.join(_CUDA_LIBRARIES)}: install the CUDA toolkit or set CUDA_HOME)") from first
