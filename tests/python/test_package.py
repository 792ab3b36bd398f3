"""fp8kit's Python package without a GPU (CI): import without torch, version, argument errors on
NumPy (CPU, DLPack) arrays raised before anything runs, and the pure-Python shape functions
against the C++ rules they mirror."""

import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fp8kit
from fp8kit import meta
from fp8kit._lib import lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_import_needs_no_torch():
    code = ("import sys, fp8kit, fp8kit.meta, fp8kit.ops, fp8kit.vllm, fp8kit.compare, fp8kit.compare.__main__; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_is_the_projects():
    cmake = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    version = re.search(r"project\(fp8kit VERSION ([0-9.]+)", cmake).group(1)
    assert fp8kit.__version__ == version
    info = fp8kit.info()
    assert info["library_version"] == version
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?|unknown", info["git_revision"]), info


def f32(*shape):
    return np.zeros(shape, np.float32)


def u8(*shape):
    return np.zeros(shape, np.uint8)


# (call, exception, words the message must contain)
BAD_CALLS = [
    (lambda: fp8kit.quantize(f32(4, 256)), ValueError, ["x", "cpu", "CUDA"]),
    (lambda: fp8kit.quantize(np.zeros((4, 256), np.int32)), TypeError, ["x", "int32"]),
    (lambda: fp8kit.quantize(f32(4, 256), q=f32(4, 256)), TypeError, ["q", "float32", "e4m3"]),
    (lambda: fp8kit.quantize(f32(4, 256), scales=u8(4)), TypeError, ["scales", "uint8"]),
    (lambda: fp8kit.quantize(f32(4, 256), (1, 100)), ValueError, ["group_shape", "(1, 100)"]),
    (lambda: fp8kit.quantize(f32(4, 256), "per-group"), ValueError, ["group_shape"]),
    (lambda: fp8kit.quantize(f32(4, 256), 7), TypeError, ["group_shape"]),
    (lambda: fp8kit.quantize(f32(4, 250), (1, 128)), ValueError, ["multiple of group_size"]),
    (lambda: fp8kit.quantize(f32(4, 256), (1, -1), column_major=True), ValueError, ["column_major", "per-token"]),
    (lambda: fp8kit.quantize(f32(4, 256), (1, 128), tma_aligned=True), ValueError, ["tma_aligned"]),
    (lambda: fp8kit.quantize(f32(4, 256), scale_ub="1"), TypeError, ["scale_ub"]),
    (lambda: fp8kit.quantize(f32(2, 4, 256)), ValueError, ["x", "matrix"]),
    (lambda: fp8kit.quantize(f32(4, 256), static_scale=f32(4), scales=f32(4)), ValueError, ["static_scale"]),
    (lambda: fp8kit.quantize("x"), TypeError, ["x", "array"]),
    (lambda: fp8kit.scaled_mm(u8(4, 256), u8(8, 256), f32(1), f32(1), mode_a="tensor", mode_b="tensor",
                              out=f32(4, 8)), ValueError, ["a", "cpu"]),
    (lambda: fp8kit.scaled_mm(f32(4, 256), u8(8, 256), f32(1), f32(1), mode_a="tensor", mode_b="tensor",
                              out=f32(4, 8)), TypeError, ["a", "float32"]),
    (lambda: fp8kit.scaled_mm(u8(4, 256), u8(8, 256), u8(1), f32(1), mode_a="tensor", mode_b="tensor",
                              out=f32(4, 8)), TypeError, ["scale_a"]),
    (lambda: fp8kit.scaled_mm(u8(4, 256), u8(8, 256), f32(1), f32(1), mode_a="tensor", mode_b="tensor",
                              out_dtype="int8"), ValueError, ["out_dtype"]),
    (lambda: fp8kit.scaled_mm(u8(4, 256), u8(8, 256), f32(1), f32(1), mode_a="tensor", mode_b="tensor",
                              out=f32(4, 8), bias=u8(8)), TypeError, ["bias", "uint8"]),
    (lambda: fp8kit.linear(np.zeros((4, 256), np.float16), u8(8, 256), f32(8), out=f32(4, 8), workspace=u8(4096)),
     ValueError, ["x", "cpu"]),
    (lambda: fp8kit.linear(f32(4, 256), u8(8, 256), f32(8), out=f32(4, 8), workspace=u8(4096)), TypeError,
     ["x", "float"]),
    (lambda: fp8kit.prepare_block_scales(f32(2, 3)), ValueError, ["scales_in", "cpu"]),
    (lambda: fp8kit.set_config_dir(3), TypeError, ["path"]),
]


@pytest.mark.parametrize("index", range(len(BAD_CALLS)))
def test_bad_arguments_name_the_argument_and_the_rule(index):
    call, error, words = BAD_CALLS[index]
    with pytest.raises(error) as e:
        call()
    for w in words:
        assert w in str(e.value), f"'{w}' not in: {e.value}"


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="one of: tensor, token, group128"):
        lib().scale_a_elems("bogus", 4, 256)
    with pytest.raises(ValueError, match="granularity 'per-row'"):
        lib().scale_geometry("per-row", 128, "row-major", 4, 256)


def test_scale_geometry_mirrors_the_library():
    specs = [(g, 128, "row-major") for g in ("per-tensor", "per-token", "per-channel", "block128")]
    specs += [("per-group", gs, lay) for gs in (32, 64, 128, 100) for lay in meta.LAYOUTS]
    specs += [("per-token", 128, "col-major")]  # a layout that applies to groups only: both refuse it
    checked = 0
    for (g, gs, lay), rows, cols in itertools.product(specs, (0, 1, 5, 128, 130, 4097), (0, 64, 128, 250, 256, 7168)):
        try:
            want = tuple(lib().scale_geometry(g, gs, lay, rows, cols))
        except ValueError:
            with pytest.raises(ValueError):
                meta.scale_geometry(g, rows, cols, gs, lay)
            continue
        got = meta.scale_geometry(g, rows, cols, gs, lay)
        assert (got.rows, got.cols, got.row_stride, got.col_stride, got.alloc_elems) == want, (g, gs, lay, rows, cols)
        checked += 1
    assert checked > 300


def test_gemm_scale_sizes_and_workspace_mirror_the_library():
    for m, n, k in itertools.product((0, 1, 5, 63, 4096), (1, 129, 7168), (0, 128, 200, 2304, 7168)):
        for mode in meta.SCALE_MODES_A:
            assert meta.scale_a_elems(mode, m, k) == lib().scale_a_elems(mode, m, k)
            assert meta.linear_workspace_bytes(m, k, mode) == lib().linear_workspace_bytes(m, k, mode)
        for mode in meta.SCALE_MODES_B:
            assert meta.scale_b_elems(mode, n, k) == lib().scale_b_elems(mode, n, k)
        # The GEMM reads its 128-wide scales in the layouts quantize writes (ops.scaled_mm relies on it).
        assert meta.scale_b_elems("block128", n, k) == meta.scale_geometry("block128", n, k).alloc_elems
        if k % 128 == 0:
            tma = meta.scale_geometry("per-group", m, k, 128, "col-major-tma")
            assert meta.scale_a_elems("group128", m, k) == tma.alloc_elems
    with pytest.raises(ValueError, match="M must be >= 0"):
        meta.scale_a_elems("token", -1, 128)
    with pytest.raises(ValueError):
        lib().scale_a_elems("token", -1, 128)


def test_group_shapes_are_vllms():
    assert meta.group_shape_spec((-1, -1)) == ("per-tensor", 128)
    assert meta.group_shape_spec((1, -1)) == ("per-token", 128)
    assert meta.group_shape_spec([1, 64]) == ("per-group", 64)
    assert meta.group_shape_spec((128, 128)) == ("block128", 128)
    assert meta.group_shape_spec("per-channel") == ("per-channel", 128)
    for bad in ((2, 128), (1, 256), (-1, 1)):
        with pytest.raises(ValueError):
            meta.group_shape_spec(bad)


def test_reference_quantizer_on_known_values():
    from fp8kit.testing import quantize_reference

    x = np.array([[448.0, -448.0, 0.0, 1.0], [2.0, 0.5, -1.0, 0.0]], np.float32)
    q, scales = quantize_reference(x, (1, -1))
    assert scales.tolist() == [1.0, np.float32(2.0) / np.float32(448.0)]  # amax / 448 per row, in fp32
    assert q[0].tolist() == [0x7E, 0xFE, 0x00, 0x38]  # 448, -448, 0, 1.0 in E4M3
    assert q[1, 0] == 0x7E  # 2.0 is this row's amax: 448 after scaling
    q_tensor, s_tensor = quantize_reference(x, (-1, -1))
    assert s_tensor.tolist() == [1.0] and q_tensor[1].tolist() == [0x40, 0x30, 0xB8, 0x00]  # 2, 0.5, -1, 0
    with pytest.raises(ValueError, match="q must hold 8 contiguous bytes"):
        fp8kit._lib.lib().quantize_reference(x, u8(7), f32(2), "per-token", 128, "row-major", False, None)


def test_gemm_scales_given_as_their_strided_view_reach_the_flat_buffer():
    from fp8kit.ops import _gemm_scales

    flat = np.arange(16, dtype=np.float32)  # group128 A scales of M = 5, K = 256: ld 8, 2 columns
    geo = meta.scale_geometry("per-group", 5, 256, 128, "col-major-tma")
    assert (geo.shape, geo.strides, geo.alloc_elems) == ((5, 2), (1, 8), 16)
    view = np.lib.stride_tricks.as_strided(flat, shape=(5, 2), strides=(4, 32))
    got = _gemm_scales(view, geo, "scale_a")
    assert got.shape == (16,) and np.array_equal(got, flat)
    assert _gemm_scales(flat, geo, "scale_a") is flat  # the buffer itself passes as is
    other = np.zeros((5, 2), np.float32)  # row-major: not the layout, left for the library to refuse
    assert _gemm_scales(other, geo, "scale_a") is other


def test_ray_bridge_imports_without_ray_and_refuses_a_bridge_without_its_worker():
    code = "import sys, fp8kit.ray_tune; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    r = subprocess.run([sys.executable, "-m", "fp8kit.ray_tune", "bridge", "--address", "127.0.0.1:1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "follows --" in r.stderr, r.stderr


def test_compare_refuses_bad_options_before_importing_torch():
    from fp8kit.compare.__main__ import parse

    assert parse(["gemm", "--shapes", "7168,2048", "--batch-sizes", "16"]).shapes == [(7168, 2048)]
    for bad in (["gemm", "--shapes", "7168"], ["gemm", "--batch-sizes", "0"], ["quant", "--groups", "per-row"], []):
        with pytest.raises(SystemExit) as e:
            parse(bad)
        assert e.value.code == 2


def test_compare_table_shows_small_errors_and_blank_cells():
    from fp8kit.compare._report import table

    rows = [{"provider": "fp8kit", "tflops": 1235.456, "rel_error": 0.0016785},
            {"provider": "deepgemm", "rel_error": 0.0, "status": "error: refused"}]
    lines = table(rows, [("provider", "provider"), ("tflops", "TFLOP/s"), ("rel_error", "rel err"),
                         ("status", "")]).splitlines()
    assert lines[1].split() == ["fp8kit", "1235.46", "1.68e-03"]
    assert lines[2].split() == ["deepgemm", "0.00", "error:", "refused"]


def test_vllm_weight_scale_cache_keys_by_identity(monkeypatch):
    # A stand-in weight-scale tensor whose == raises as a torch tensor's does (elementwise): the
    # cache must neither compare tensors nor keep them alive, and re-prepares after an in-place write.
    from fp8kit import ops, vllm

    class Scales:
        shape, _version = (2, 3), 0

        def data_ptr(self):
            return 4096

        def stride(self):
            return (3, 1)

        def float(self):
            return self

        def __eq__(self, other):
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")

        __hash__ = object.__hash__

    prepared = []
    monkeypatch.setattr(ops, "prepare_block_scales", lambda s: prepared.append(object()) or prepared[-1])
    bs = Scales()
    first = vllm._weight_scales(bs, 256, 384)
    assert vllm._weight_scales(bs, 256, 384) is first and len(prepared) == 1
    bs._version = 1  # what an in-place write does to a tensor
    assert vllm._weight_scales(bs, 256, 384) is not first and len(prepared) == 2
    ident = id(bs)
    del bs
    assert ident not in vllm._WEIGHT_SCALES
