#!/usr/bin/env bash
# Installs every build and test dependency of fp8kit from Debian packages.
# Idempotent and non-interactive: a second run on a set-up machine installs nothing.
set -euo pipefail

packages=(cmake ninja-build g++ git libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libfmt-dev gnuplot-nox
          python3 python3-venv)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup.sh: missing packages (${missing[*]}) and no apt-get to install them" >&2
    exit 3
  fi
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The CUDA toolkit (nvcc, NVRTC, cuBLASLt, cudart) comes with the machine, not from Debian.
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
if [ ! -x "$cuda_home/bin/nvcc" ] && ! command -v nvcc >/dev/null; then
  echo "setup.sh: CUDA toolkit not found (looked for $cuda_home/bin/nvcc and nvcc on PATH); set CUDA_HOME" >&2
  exit 3
fi
for lib in libnvrtc.so libcublasLt.so libcudart_static.a; do
  if [ ! -e "$cuda_home/lib64/$lib" ] && [ ! -e "$cuda_home/targets/x86_64-linux/lib/$lib" ]; then
    echo "setup.sh: CUDA library $lib not found under $cuda_home" >&2
    exit 3
  fi
done
# The Python package's build and test tools, in a virtual environment the build reuses
# (scripts/test.sh builds the package into it with `pip install .`).
pyenv="${FP8KIT_PYENV:-build/pyenv}"
# Ray: `fp8kit tune --ray` and its tests (a local cluster of fake workers, tests/python/test_ray_tune.py).
# cuobjdump and nvdisasm (not in the machine's toolkit): the SASS the GEMM test reads (tests/python/test_gemm_sass.py).
python_tools=("scikit-build-core==1.1.2" "apache-tvm-ffi==0.1.15.post2" "numpy" "pytest" "ray==2.60.0"
              "nvidia-cuda-cuobjdump==13.5.37" "nvidia-cuda-nvdisasm==13.5.37")
if [ ! -x "$pyenv/bin/python" ]; then
  python3 -m venv "$pyenv"
fi
if ! "$pyenv/bin/python" -c "import scikit_build_core, tvm_ffi, numpy, pytest, ray, nvidia.cu13" 2>/dev/null ||
  ! compgen -G "$pyenv/lib/python3*/site-packages/nvidia/cu13/bin/nvdisasm" >/dev/null; then
  echo "setup.sh: installing ${python_tools[*]} into $pyenv"
  "$pyenv/bin/pip" install -q --disable-pip-version-check "${python_tools[@]}"
fi
echo "setup.sh: dependencies present"
