"""fp8kit: FP8 (E4M3) quantization at every granularity serving uses and block-scaled GEMMs for
NVIDIA Hopper, on any DLPack array. Importing needs neither a GPU nor torch; the native extension
loads on the first op."""

from __future__ import annotations

from importlib import metadata as _metadata

from .meta import ScaleGeometry, linear_workspace_bytes, scale_a_elems, scale_b_elems, scale_geometry
from .ops import info, linear, prepare_block_scales, quantize, scaled_mm, set_config_dir

try:
    __version__ = _metadata.version("fp8kit")
except _metadata.PackageNotFoundError:  # run from the source tree
    __version__ = "0.0.0+source"

__all__ = [
    "ScaleGeometry",
    "__version__",
    "info",
    "linear",
    "linear_workspace_bytes",
    "prepare_block_scales",
    "quantize",
    "scale_a_elems",
    "scale_b_elems",
    "scale_geometry",
    "scaled_mm",
    "set_config_dir",
]
