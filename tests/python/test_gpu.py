"""fp8kit's Python package on the GPU (skipped without torch and a CUDA device): quantize bit for bit
equal to the CPU reference for every granularity, layout and input dtype, on torch, CuPy and JAX
arrays; scaled_mm's own kernel equal to the reference backend on exact inputs; CUDA-graph capture
and side streams take the caller's stream."""

import os
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

import fp8kit  # noqa: E402
from fp8kit import meta  # noqa: E402
from fp8kit.testing import quantize_reference  # noqa: E402

SEED = int(os.environ.get("FP8KIT_TEST_SEED", random.SystemRandom().randrange(2**31)))
print(f"test_gpu.py seed {SEED} (FP8KIT_TEST_SEED replays it)")

SPECS = [((-1, -1), {}), ((1, -1), {}), ((1, -1), {"ue8m0": True}), ((1, -1), {"scale_ub": 3.5}), ((128, 128), {})]
SPECS += [((1, g), {"column_major": cm, "tma_aligned": tma}) for g in (32, 64, 128)
          for cm, tma in ((False, False), (True, False), (True, True))]
DTYPES = [torch.bfloat16, torch.float16, torch.float32]


def make_input(rows, cols, dtype, gen):
    x = torch.randn(rows, cols, generator=gen) * torch.exp2(torch.randint(-8, 8, (rows, 1), generator=gen).float())
    flat = x.view(-1)
    picks = torch.randint(0, flat.numel(), (min(8, flat.numel()),), generator=gen)
    flat[picks] = torch.tensor([0.0, -0.0, 448.0, -1e6, 1e-30, 3.0, float("inf"), float("nan")])[: picks.numel()]
    return x.to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("spec", range(len(SPECS)))
def test_quantize_equals_the_reference_bit_for_bit(dtype, spec):
    group_shape, options = SPECS[spec]
    gen = torch.Generator().manual_seed(SEED + spec)
    for rows, cols in ((1, 128), (5, 896), (37, 7168), (130, 4096)):
        x = make_input(rows, cols, dtype, gen)
        want_q, want_s = quantize_reference(x, group_shape, **options)
        granularity, group = meta.group_shape_spec(group_shape)
        layout = fp8kit.ops._layout(granularity, options.get("column_major", False), options.get("tma_aligned", False))
        geo = meta.scale_geometry(granularity, rows, cols, group, layout)
        scales = torch.full((geo.alloc_elems,), float("nan"), device="cuda")  # poisoned
        q, view = fp8kit.quantize(x.cuda(), group_shape, scales=scales, **options)
        torch.cuda.synchronize()
        assert np.array_equal(q.view(torch.uint8).cpu().numpy(), want_q), (rows, cols)
        assert np.array_equal(scales.cpu().numpy().view(np.uint32), want_s.view(np.uint32)), (rows, cols)
        assert tuple(view.shape) == geo.shape and tuple(view.stride()) == geo.strides


def test_cupy_and_jax_arrays_give_the_same_bits():
    x = make_input(33, 1024, torch.float16, torch.Generator().manual_seed(SEED)).cuda()
    q_torch, s_torch = fp8kit.quantize(x, (1, 128), column_major=True, tma_aligned=True)
    checked = 0
    try:
        import cupy
    except ImportError:
        cupy = None
    if cupy is not None:
        q_cp, s_cp = fp8kit.quantize(cupy.from_dlpack(x), (1, 128), column_major=True, tma_aligned=True)
        assert np.array_equal(cupy.asnumpy(q_cp), q_torch.view(torch.uint8).cpu().numpy())
        assert np.array_equal(cupy.asnumpy(s_cp), s_torch.cpu().numpy())
        checked += 1
    try:
        import jax.dlpack
    except ImportError:
        pass
    else:
        q = torch.empty_like(q_torch)
        s = torch.empty(s_torch.untyped_storage().nbytes() // 4, device="cuda")
        x_jax = jax.dlpack.from_dlpack(x)
        fp8kit.quantize(x_jax, (1, 128), column_major=True, tma_aligned=True, q=q, scales=s)
        assert torch.equal(q.view(torch.uint8), q_torch.view(torch.uint8))
        checked += 1
    if checked == 0:
        pytest.skip("neither CuPy nor JAX is installed")


def exact_operands(m, n, k, gen):
    """Small integers in E4M3 and power-of-two scales: every product and sum is exact in fp32."""
    a = torch.randint(-4, 5, (m, k), generator=gen).float().to(torch.float8_e4m3fn).cuda()
    b = torch.randint(-4, 5, (n, k), generator=gen).float().to(torch.float8_e4m3fn).cuda()
    sa = torch.exp2(torch.randint(-2, 3, (meta.scale_a_elems("group128", m, k),), generator=gen).float()).cuda()
    sb = torch.exp2(torch.randint(-2, 3, (meta.scale_b_elems("block128", n, k),), generator=gen).float()).cuda()
    return a, b, sa, sb


def test_scaled_mm_own_kernel_equals_the_reference_backend_on_exact_inputs():
    gen = torch.Generator().manual_seed(SEED)
    for m, n, k in ((64, 256, 512), (5, 384, 1024), (300, 7168, 256)):
        a, b, sa, sb = exact_operands(m, n, k, gen)
        outs = [fp8kit.scaled_mm(a, b, sa, sb, mode_a="group128", mode_b="block128", out_dtype="float32",
                                 backend=backend) for backend in ("fp8kit", "reference")]
        assert torch.equal(outs[0], outs[1]), (m, n, k)


def test_graph_capture_and_side_streams_use_the_callers_stream():
    x = make_input(64, 7168, torch.bfloat16, torch.Generator().manual_seed(SEED)).cuda()
    q_eager, s_eager = fp8kit.quantize(x, (1, 128))
    q = torch.empty_like(q_eager)
    s = torch.zeros(s_eager.numel(), device="cuda")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        fp8kit.quantize(x, (1, 128), q=q, scales=s)
    torch.cuda.current_stream().wait_stream(side)
    assert torch.equal(q.view(torch.uint8), q_eager.view(torch.uint8))
    q.zero_()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fp8kit.quantize(x, (1, 128), q=q, scales=s)
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(q.view(torch.uint8), q_eager.view(torch.uint8))


def test_arrays_on_two_devices_or_the_host_are_refused():
    x = torch.ones(4, 256, device="cuda")
    with pytest.raises(ValueError, match="q is on cpu"):
        fp8kit.quantize(x, q=torch.empty(4, 256, dtype=torch.float8_e4m3fn))


def test_torch_compile_fullgraph_and_graph_capture_of_the_custom_ops():
    from fp8kit import torch_ops

    gen = torch.Generator().manual_seed(SEED)
    x = make_input(96, 1024, torch.bfloat16, gen).nan_to_num(0.0, 0.0, 0.0).cuda()
    b = (torch.randn(384, 1024, generator=gen) * 50).clamp(-448, 448).to(torch.float8_e4m3fn).cuda()
    sb = fp8kit.prepare_block_scales(torch.rand(3, 8, generator=gen).cuda() + 0.5)

    def layer(x):
        q, s = torch.ops.fp8kit.quantize(x, "per-group", 128, "col-major-tma", False, None)
        return torch.ops.fp8kit.scaled_mm(q, b, s, sb, "group128", "block128", torch.bfloat16, None, "fp8kit", False)

    eager = layer(x)
    compiled = torch.compile(layer, fullgraph=True)(x)
    assert torch.equal(compiled, eager)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = layer(x)
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(captured, eager)
    assert torch_ops.quantize is not None


def test_vllm_dropin_error_is_no_worse_than_vllms_triton_kernel():
    import sys

    peers = os.path.join(os.path.dirname(__file__), "..", "..", "build-peers")
    if not os.path.exists(os.path.join(peers, "vllm_triton.py")):
        pytest.skip("the peers kit (build-peers/vllm_triton.py) is not here")
    sys.path.insert(0, peers)
    import vllm_triton

    from fp8kit.vllm import w8a8_block_fp8_matmul

    gen = torch.Generator(device="cuda").manual_seed(SEED)
    for m, n, k in ((16, 2112, 7168), (512, 576, 7168), (3, 7168, 2304)):
        x = torch.randn(m, k, device="cuda", generator=gen, dtype=torch.bfloat16)
        w = torch.randn(n, k, device="cuda", generator=gen) * 0.05
        bs = torch.stack([w[i:i + 128].reshape(-1, k // 128, 128).abs().amax(dim=(0, 2))
                          for i in range(0, n, 128)]) / 448.0
        wq = (w / bs.repeat_interleave(128, 0)[:n].repeat_interleave(128, 1)).to(torch.float8_e4m3fn)
        for column_major in (False, True):
            a, As = vllm_triton.group_quant(x, 128, column_major=column_major)
            ours = w8a8_block_fp8_matmul(a, wq, As, bs, [128, 128], torch.bfloat16)
            theirs = vllm_triton.block_mm(a, wq, As, bs, out_dtype=torch.bfloat16)
            exact = x.float() @ (wq.float() * bs.repeat_interleave(128, 0)[:n].repeat_interleave(128, 1)).t()
            err_ours = ((ours.float() - exact).norm() / exact.norm()).item()
            err_theirs = ((theirs.float() - exact).norm() / exact.norm()).item()
            assert err_ours <= err_theirs * 1.01 + 1e-6, (m, n, k, column_major, err_ours, err_theirs)
