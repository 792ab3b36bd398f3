"""The GEMM's code as NVRTC builds it (no GPU): the overlapped K loops of tiles that straddle two B
scale blocks keep their barrier addresses and wgmma descriptors in uniform registers.

NVRTC's front end computes shared addresses in 64 bits where nvcc's uses 32. From that form ptxas
moved every descriptor into a uniform register before each wgmma (R2UR): 602 of them in m128n96 s6,
826 in m64n96 s8, and 560 instructions a lap of the ring against nvcc's 495, from the same source.
The kernel now derives them from a 32-bit base (ptx::smem_u32_base); this fails if they come back.
Needs cuobjdump and nvdisasm: the PyPI wheels nvidia-cuda-cuobjdump and -nvdisasm that scripts/setup.sh
installs, or PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("FP8KIT_CLI", ROOT / "build" / "release" / "fp8kit"))
# (N, K, M, config as force_gemm_configs.py takes it): DeepGEMM's tile at 3072 x 7168, the shipped
# decode-width tile at 4608 x 7168 M = 128
TILES = {"m128n96k128_s6_wg2_c1": (3072, 7168, 512, "128,96,6,2,1,1"),
         "m64n96k128_s8_wg1_c1": (4608, 7168, 128, "64,96,8,1,1,1")}
MAX_R2UR = 64  # 18-30 in the shipped folders' kernels once fixed, but m16n96's 277 (another cause:
               # scripts/experiments/holds_rows_uniform.patch)


def cuobjdump_dir() -> str | None:
    found = shutil.which("cuobjdump")
    if found:
        return str(Path(found).parent)
    try:
        import nvidia.cu13  # noqa: PLC0415 (the wheel's namespace package)
    except ImportError:
        return None
    for root in nvidia.cu13.__path__:
        if (Path(root) / "bin" / "cuobjdump").exists():
            return str(Path(root) / "bin")
    return None


def test_straddling_tiles_keep_descriptors_in_uniform_registers(tmp_path):
    tools = cuobjdump_dir()
    if tools is None:
        if os.environ.get("FP8KIT_REQUIRE_SASS") == "1":
            pytest.fail("cuobjdump is neither on PATH nor in the nvidia-cuda-cuobjdump wheel (scripts/setup.sh)")
        pytest.skip("no cuobjdump")
    if not CLI.exists():
        pytest.fail(f"the fp8kit CLI is not at {CLI} (set FP8KIT_CLI)")
    configs = tmp_path / "configs"
    for n, k, m, config in TILES.values():
        subprocess.run([sys.executable, ROOT / "scripts" / "force_gemm_configs.py", configs, str(n), str(k),
                        f"{m}={config}", "--device", "NVIDIA H200"], check=True, capture_output=True)
    env = dict(os.environ, FP8KIT_CACHE_DIR=str(tmp_path / "jit"), FP8KIT_JIT_DUMP_SASS="1",
               PATH=tools + os.pathsep + os.environ.get("PATH", ""))
    batch_sizes = sorted({str(m) for _, _, m, _ in TILES.values()})
    subprocess.run([CLI, "cache", "warm", "--model", "deepseek-ai/DeepSeek-V3", "--tp", "8", "--batch-sizes",
                    *batch_sizes, "--config-dir", configs, "--device-name", "NVIDIA H200"],
                   check=True, capture_output=True, env=env)
    for tile in TILES:
        sass = list((tmp_path / "jit" / "kernels").glob(f"sm90_fp8_gemm_a-group128_b-block128_bf16_{tile}/*/kernel.sass"))
        assert len(sass) == 1, f"{tile}: no SASS dumped"
        text = sass[0].read_text()
        assert "QGMMA" in text, f"{tile}: {sass[0]} is not a disassembled GEMM"
        r2ur = text.count("R2UR")
        assert r2ur <= MAX_R2UR, f"{tile}: {r2ur} R2UR (at most {MAX_R2UR}): descriptors left the uniform registers"
