#include "bench/cold_read.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include <fp8kit/bench/read_params.cuh>

#include "bench/gemm_operands.hpp"
#include "bench/timing.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/types.hpp"
#include "jit/kernel_loader.hpp"

namespace fp8kit::bench {
namespace {

struct ReadShape {
  int threads, unroll, blocks_per_sm;
};
// Full occupancy (8 x 256 threads an SM), all of a thread's loads in flight at once: one vector a
// thread spreads a decode-sized read over every SM (17 MB a step on 132 SMs), four keep more bytes
// in flight per thread for larger ones.
constexpr ReadShape kReadShapes[] = {{256, 1, 8}, {256, 2, 8}, {256, 4, 8}};

jit::KernelSource read_kernel_source(const ReadShape& shape) {
  jit::KernelSource s;
  s.name = fmt::format("read_vec16_t{}_u{}", shape.threads, shape.unroll);
  s.source = fmt::format(
      "#include <fp8kit/bench/read.cuh>\n"
      "extern \"C\" __global__ void __launch_bounds__({0}) fp8kit_entry(const __grid_constant__ fp8kit::ReadParams p) {{\n"
      "  fp8kit::read_vectors<{1}>(p);\n"
      "}}\n",
      shape.threads, shape.unroll);
  return s;
}

}  // namespace

std::vector<jit::KernelSource> cold_read_kernel_sources() {
  std::vector<jit::KernelSource> sources;
  for (const ReadShape& shape : kReadShapes) sources.push_back(read_kernel_source(shape));
  return sources;
}

double ColdReadFloor::us(double bytes) {
  const auto vectors = static_cast<std::size_t>(std::ceil(std::max(bytes, 16.0) / 16.0));
  if (const auto it = us_by_vectors_.find(vectors); it != us_by_vectors_.end()) return it->second;
  // Distinct words (a skipped vector changes the XOR), copied into every set of the cold rotation.
  std::vector<std::uint32_t> pattern(vectors * 4);
  std::uint32_t want = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    pattern[i] = static_cast<std::uint32_t>(i * 2654435761u + 1);
    want ^= pattern[i];
  }
  cuda::DeviceBuffer data(vectors * 16);
  data.upload(pattern);
  const Rotation rotation({{data.data(), vectors * 16}}, device_, TimingMode::kCold, stream_);
  const int sets = rotation.sets();
  const auto src = [&](int set) { return static_cast<const Vec16*>(rotation.at(0, set)); };

  double best = std::numeric_limits<double>::infinity();
  for (const ReadShape& shape : kReadShapes) {
    const jit::LoadedKernel& kernel = jit::load_kernel(read_kernel_source(shape));
    const int blocks = device_.sm_count * shape.blocks_per_sm;
    cuda::DeviceBuffer block_xor(static_cast<std::size_t>(blocks) * 4);
    const auto launch = [&](cudaStream_t s, int set) {
      kernel.launch_with(dim3(static_cast<unsigned>(blocks)), dim3(static_cast<unsigned>(shape.threads)), 0, s,
                         ReadParams{src(set), vectors, block_xor.as<u32>()}, jit::LaunchOrder::kProgrammatic);
    };
    block_xor.fill_bytes(0);
    launch(stream_, sets - 1);
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::uint32_t got = 0;
    for (std::uint32_t x : block_xor.download_all<std::uint32_t>()) got ^= x;
    if (got != want) {
      throw Error(ErrorKind::kCheckFailed, fmt::format("cold read check failed for {} over {} bytes: XOR {:08x}, want {:08x}",
                                                       kernel.name(), vectors * 16, got, want));
    }
    TimingConfig config;
    config.samples = 15;
    best = std::min(best, time_launches(launch, sets, stream_, config).median);
  }
  us_by_vectors_[vectors] = best;
  return best;
}

}  // namespace fp8kit::bench
