#include "jit/kernel_loader.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "jit/compiler.hpp"

namespace fp8kit::jit {

LoadedKernel::LoadedKernel(const CompiledKernel& compiled, const std::string& entry)
    : name_(compiled.name), usage_(compiled.usage), from_disk_cache_(compiled.from_disk_cache) {
  FP8KIT_CUDA_CHECK(cudaLibraryLoadData(&library_, compiled.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0));
  // Look the entry up among the library's kernels rather than letting cudaLibraryGetKernel fail:
  // a failed call is an API error that compute-sanitizer reports, and this way the message can
  // list what the cubin has.
  try {
    unsigned count = 0;
    FP8KIT_CUDA_CHECK(cudaLibraryGetKernelCount(&count, library_));
    std::vector<cudaKernel_t> kernels(count);
    FP8KIT_CUDA_CHECK(cudaLibraryEnumerateKernels(kernels.data(), count, library_));
    std::vector<std::string> names;
    for (cudaKernel_t k : kernels) {
      const char* kernel_name = nullptr;
      FP8KIT_CUDA_CHECK(cudaFuncGetName(&kernel_name, reinterpret_cast<const void*>(k)));
      names.emplace_back(kernel_name);
      if (names.back() == entry) kernel_ = k;
    }
    if (kernel_ == nullptr) {
      throw Error(ErrorKind::kCheckFailed,
                  fmt::format("kernel {} has no entry point {} (it has: {})", name_, entry, fmt::join(names, ", ")));
    }
  } catch (...) {
    cudaLibraryUnload(library_);
    throw;
  }
}

LoadedKernel::~LoadedKernel() {
  if (library_) cudaLibraryUnload(library_);
}

void LoadedKernel::set_max_dynamic_smem(std::size_t bytes) const {
  FP8KIT_CUDA_CHECK(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel_),
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

int LoadedKernel::max_active_clusters(int cluster_size, dim3 block, std::size_t smem_bytes) const {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(cluster_size));  // one cluster: the compiled size decides
  config.blockDim = block;
  config.dynamicSmemBytes = smem_bytes;
  int clusters = 0;
  FP8KIT_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, reinterpret_cast<const void*>(kernel_), &config));
  return clusters;
}

void LoadedKernel::launch(dim3 grid, dim3 block, std::size_t smem_bytes, cudaStream_t stream, void** args,
                          LaunchOrder order) const {
  if (order == LaunchOrder::kSerial) {
    FP8KIT_CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(kernel_), grid, block, args, smem_bytes, stream));
    return;
  }
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem_bytes;
  config.stream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  FP8KIT_CUDA_CHECK(cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(kernel_), args));
}

const LoadedKernel& load_kernel(const KernelSource& source) {
  struct Entry {
    std::string source;
    std::unique_ptr<LoadedKernel> kernel;
  };
  static std::mutex mutex;
  // Keyed by name, not by cache key: hashing every header on each launch would cost more than
  // a small kernel runs. kernel_name spells every field, so one name means one source.
  static std::map<std::string, Entry> loaded;
  std::lock_guard lock(mutex);
  auto it = loaded.find(source.name);
  if (it == loaded.end()) {
    cuda::require_device(fmt::format("loading kernel {}", source.name));
    const KernelCompiler compiler;
    auto kernel = std::make_unique<LoadedKernel>(compiler.compile(source), source.entry);
    it = loaded.emplace(source.name, Entry{source.source, std::move(kernel)}).first;
  } else if (it->second.source != source.source) {
    throw Error(ErrorKind::kCheckFailed,
                fmt::format("two different kernel sources are both named {}: kernel_name must spell every field", source.name));
  }
  return *it->second.kernel;
}

}  // namespace fp8kit::jit
