#!/usr/bin/env bash
# Installs every build and test dependency of fp8kit from Debian packages.
# Idempotent and non-interactive: a second run on a set-up machine installs nothing.
set -euo pipefail

packages=(cmake ninja-build g++ git libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libfmt-dev gnuplot-nox)

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
echo "setup.sh: dependencies present"
