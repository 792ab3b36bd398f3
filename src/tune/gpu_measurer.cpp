#include "tune/gpu_measurer.hpp"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench/gemm_operands.hpp"
#include "bench/timing.hpp"
#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/version.hpp"
#include "jit/compiler.hpp"
#include "ops/sm90_fp8_gemm.hpp"
#include "tune/output_check.hpp"

namespace fp8kit::tune {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

// E4M3 codes with bit 6 clear: |x| < 2, never NaN (0x7F/0xFF have it set), many magnitudes.
std::vector<std::uint8_t> random_codes(std::size_t count, std::uint64_t seed) {
  std::vector<std::uint8_t> codes(count);
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < count; i += 8) {
    const std::uint64_t r = rng();
    for (std::size_t j = 0; j < 8 && i + j < count; ++j) codes[i + j] = static_cast<std::uint8_t>((r >> (8 * j)) & 0xBF);
  }
  return codes;
}

// Powers of two from 2^-3 to 2^3: products stay exact, so only accumulation order differs.
std::vector<float> random_scales(std::size_t count, std::uint64_t seed) {
  std::vector<float> scales(count);
  std::mt19937_64 rng(seed);
  for (float& s : scales) s = std::ldexp(1.0f, static_cast<int>(rng() % 7) - 3);
  return scales;
}

template <typename T>
cuda::DeviceBuffer upload(const std::vector<T>& host) {
  cuda::DeviceBuffer buf(std::max<std::size_t>(host.size() * sizeof(T), 16));
  buf.upload(host.data(), host.size() * sizeof(T));
  return buf;
}

class GpuMeasurer : public CandidateMeasurer {
 public:
  GpuMeasurer(bench::TimingConfig timing, ops::Sm90GemmLaunch launch) : timing_(timing), launch_(launch) {}
  WorkerHello hello() override {
    cuda::require_sm90("fp8kit tune");
    device_ = cuda::current_device_info();
    const cuda::LibraryVersions v = cuda::library_versions();
    WorkerHello h;
    h.device = device_.name;
    h.sm_count = device_.sm_count;
    h.versions = {{"cuda_runtime", v.cuda_runtime}, {"cuda_driver", v.cuda_driver}, {"nvrtc", v.nvrtc},
                  {"fp8kit", std::string(version())},  {"git", std::string(git_revision())},
                  {"device_uuid", device_.uuid}};
    stream_.emplace();
    return h;
  }

  std::map<std::string, std::string> compile(const std::vector<GemmConfig>& configs) override {
    std::vector<jit::KernelSource> sources;
    for (const GemmConfig& c : configs) sources.push_back(ops::sm90_fp8_gemm_source(c));
    std::map<std::string, std::string> failed;
    try {
      compiler().compile_all(sources);
    } catch (const Error&) {
      for (const jit::KernelSource& s : sources) {  // find which ones (cache hits for the rest)
        try {
          compiler().compile(s);
        } catch (const Error& e) {
          failed[s.name] = e.what();
        }
      }
    }
    return failed;
  }

  GemmConfig default_config(const GemmShape& shape, const GemmConfig& base) override {
    return ops::default_gemm_config(shape, base.mode_a, base.mode_b, base.out, device_.sm_count);
  }

  double measure_us(const GemmShape& shape, const GemmConfig& config, bool cold) override {
    try {
      prepare(shape, config);
      const cudaStream_t stream = stream_->get();
      if (planted_fault(config)) {  // the GPU test of fault isolation: a real illegal-address fault
        const TensorView unmapped = TensorView::matrix(reinterpret_cast<void*>(std::uintptr_t{1} << 40), out_dtype_,
                                                       shape_.m, shape_.n, shape_.n);
        ops::fp8kit_scaled_mm(a(), b(), mode_a_, sa(), mode_b_, sb(), unmapped, std::nullopt, stream, config);
        FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
      }
      const bench::Rotation& sets = rotation(cold, stream);
      out_.fill_bytes(0xFF);  // NaN: a tile the kernel skips cannot pass
      run(config, stream, sets, 0);  // set 0: the buffers themselves
      FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
      std::vector<std::byte> got(out_bytes());
      out_.download(got.data(), got.size());
      if (const auto wrong = compare_gemm_outputs(reference_, got, config.out, shape.m, shape.n)) {
        throw Error(ErrorKind::kCheckFailed, fmt::format("{}: {}", kernel_name(config), *wrong));
      }
      const auto call = [&](cudaStream_t s, int set) { run(config, s, sets, set); };
      return bench::time_launches(call, sets.sets(), stream, timing_).median;
    } catch (...) {
      // A fault is sticky: the context is gone and this process must be replaced.
      (void)cudaGetLastError();
      if (cudaDeviceSynchronize() != cudaSuccess || cudaGetLastError() != cudaSuccess) healthy_ = false;
      throw;
    }
  }

  bool healthy() override { return healthy_; }

  // FP8KIT_TUNE_PLANT_FAULT=<kernel-name substring>: matching candidates write through an unmapped
  // output pointer (testing only).
  static bool planted_fault(const GemmConfig& config) {
    const char* plant = std::getenv("FP8KIT_TUNE_PLANT_FAULT");
    return plant != nullptr && *plant != '\0' && kernel_name(config).find(plant) != std::string::npos;
  }

 private:
  const jit::KernelCompiler& compiler() {
    if (!compiler_) {
      jit::JitOptions options = jit::global_options();
      options.fail_on_spill = true;  // DESIGN.md §4: on in the tuner
      compiler_.emplace(options);
    }
    return *compiler_;
  }

  std::size_t out_bytes() const { return sz(shape_.m * shape_.n) * dtype_size(out_dtype_); }

  TensorView a() const { return TensorView::matrix(a_.data(), DType::kE4M3, shape_.m, shape_.k, shape_.k); }
  TensorView b() const { return TensorView::matrix(b_.data(), DType::kE4M3, shape_.n, shape_.k, shape_.k); }
  TensorView sa() const {
    return TensorView::contiguous(sa_.data(), DType::kFloat32, {scale_a_elems(mode_a_, shape_.m, shape_.k)});
  }
  TensorView sb() const {
    return TensorView::contiguous(sb_.data(), DType::kFloat32, {scale_b_elems(mode_b_, shape_.n, shape_.k)});
  }
  TensorView out_view(const cuda::DeviceBuffer& buf) const {
    return TensorView::matrix(buf.data(), out_dtype_, shape_.m, shape_.n, shape_.n);
  }

  // The timed calls' input sets, kept while requests stay on the prepared problem: one (the buffers
  // themselves) for graph timing; cold, copies of A, B, their scales and the output that together
  // exceed twice the L2, so every call reads its weights from HBM, as a decode step does.
  const bench::Rotation& rotation(bool cold, cudaStream_t stream) {
    if (!rotation_ || rotation_cold_ != cold) {
      rotation_.reset();
      rotation_.emplace(std::vector<bench::RotationPart>{{a_.data(), a_.bytes()},
                                                        {b_.data(), b_.bytes()},
                                                        {sa_.data(), sa_.bytes()},
                                                        {sb_.data(), sb_.bytes()},
                                                        {out_.data(), out_.bytes()}},
                        device_, cold ? bench::TimingMode::kCold : bench::TimingMode::kGraph, stream);
      rotation_cold_ = cold;
    }
    return *rotation_;
  }

  void run(const GemmConfig& config, cudaStream_t stream, const bench::Rotation& sets, int set) {
    ops::fp8kit_scaled_mm(bench::with_data(a(), sets.at(0, set)), bench::with_data(b(), sets.at(1, set)), mode_a_,
                          bench::with_data(sa(), sets.at(2, set)), mode_b_, bench::with_data(sb(), sets.at(3, set)),
                          bench::with_data(out_view(out_), sets.at(4, set)), std::nullopt, stream, config, launch_);
  }

  // Inputs and the reference output for (shape, modes, out), kept while requests stay on them.
  void prepare(const GemmShape& shape, const GemmConfig& c) {
    const bool same = shape.m == shape_.m && shape.n == shape_.n && shape.k == shape_.k && c.out == out_dtype_ &&
                      c.mode_a == mode_a_ && c.mode_b == mode_b_ && !reference_.empty();
    if (same) return;
    rotation_.reset();  // its copies are of the buffers replaced below
    if (shape.n != shape_.n || shape.k != shape_.k || c.mode_b != mode_b_ || b_.bytes() == 0) {
      b_ = upload(random_codes(sz(shape.n * shape.k), 0xB0 + sz(shape.n) * 31 + sz(shape.k)));
      sb_ = upload(random_scales(sz(scale_b_elems(c.mode_b, shape.n, shape.k)), 0x5B + sz(shape.n)));
    }
    shape_ = shape;
    mode_a_ = c.mode_a;
    mode_b_ = c.mode_b;
    out_dtype_ = c.out;
    a_ = upload(random_codes(sz(shape.m * shape.k), 0xA0 + sz(shape.m) * 17 + sz(shape.k)));
    sa_ = upload(random_scales(sz(scale_a_elems(c.mode_a, shape.m, shape.k)), 0x5A + sz(shape.m)));
    out_ = cuda::DeviceBuffer(out_bytes());
    cuda::DeviceBuffer reference(out_bytes());
    reference.fill_bytes(0xFF);
    ScaledMmOptions ref;
    ref.backend = GemmBackend::kReference;
    scaled_mm(a(), b(), mode_a_, sa(), mode_b_, sb(), out_view(reference), std::nullopt, stream_->get(), ref);
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_->get()));
    reference_.resize(out_bytes());
    reference.download(reference_.data(), reference_.size());
  }

  cuda::DeviceInfo device_;
  std::optional<cuda::Stream> stream_;
  std::optional<jit::KernelCompiler> compiler_;
  bench::TimingConfig timing_;
  ops::Sm90GemmLaunch launch_;
  GemmShape shape_;
  ScaleModeA mode_a_ = ScaleModeA::kGroup128;
  ScaleModeB mode_b_ = ScaleModeB::kBlock128;
  DType out_dtype_ = DType::kBFloat16;
  cuda::DeviceBuffer a_, b_, sa_, sb_, out_;
  std::vector<std::byte> reference_;
  std::optional<bench::Rotation> rotation_;
  bool rotation_cold_ = false;
  bool healthy_ = true;
};

}  // namespace

std::unique_ptr<CandidateMeasurer> make_gpu_measurer(const GpuMeasurerOptions& options) {
  const bench::TimingConfig burst{.warmup_replays = 2, .samples = 10, .target_replay_ms = 2, .max_calls_per_replay = 500};
  return std::make_unique<GpuMeasurer>(options.bench_timing ? bench::TimingConfig{} : burst,
                                       ops::Sm90GemmLaunch{.prefetch_b = options.b_is_weight});
}

}  // namespace fp8kit::tune
