#include "bench/quant_suite.hpp"

#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "bench/ceilings.hpp"
#include "bench/quant_verify.hpp"
#include "bench/run_context.hpp"
#include "bench/timing.hpp"
#include "core/ref_quant.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/quant.hpp"
#include "jit/options.hpp"

namespace fp8kit::bench {
namespace {

constexpr std::size_t kSetAlign = 256;  // every input set starts on its own 256-byte boundary

std::size_t round_up(std::size_t a, std::size_t b) { return (a + b - 1) / b * b; }

// Device buffers for one configuration: `sets` copies of x, q and the scales, rotated by cold timing.
class QuantBuffers {
 public:
  QuantBuffers(const QuantConfig& config, DType dtype, int sets)
      : config_(config),
        dtype_(dtype),
        sets_(sets),
        x_bytes_(static_cast<std::size_t>(config.m * config.h) * dtype_size(dtype)),
        q_bytes_(static_cast<std::size_t>(config.m * config.h)),
        scale_elems_(scale_geometry(config.spec, config.m, config.h).alloc_elems),
        x_stride_(round_up(x_bytes_, kSetAlign)),
        q_stride_(round_up(q_bytes_, kSetAlign)),
        s_stride_(round_up(static_cast<std::size_t>(scale_elems_) * 4, kSetAlign)),
        x_(x_stride_ * static_cast<std::size_t>(sets)),
        q_(q_stride_ * static_cast<std::size_t>(sets)),
        s_(s_stride_ * static_cast<std::size_t>(sets)) {}

  // Device bytes one set of x, q and scales occupies: what cold timing must rotate past L2.
  static std::size_t bytes_per_set(const QuantConfig& c, DType dtype) {
    const auto elems = static_cast<std::size_t>(c.m * c.h);
    const auto scale_bytes = static_cast<std::size_t>(scale_geometry(c.spec, c.m, c.h).alloc_elems) * 4;
    return round_up(elems * dtype_size(dtype), kSetAlign) + round_up(elems, kSetAlign) + round_up(scale_bytes, kSetAlign);
  }

  TensorView x(int set) const { return TensorView::matrix(at(x_, x_stride_, set), dtype_, config_.m, config_.h, config_.h); }
  TensorView q(int set) const {
    return TensorView::matrix(at(q_, q_stride_, set), DType::kE4M3, config_.m, config_.h, config_.h);
  }
  TensorView scales(int set) const { return TensorView::contiguous(at(s_, s_stride_, set), DType::kFloat32, {scale_elems_}); }

  // Uploads x into set 0 and poisons every output: 0xFF is an E4M3 NaN no kernel writes, and a
  // NaN scale, so an element or scale left unwritten is a mismatch.
  void load_input(const std::vector<std::byte>& host) {
    x_.upload(host.data(), x_bytes_);
    q_.fill_bytes(0xFF);
    s_.fill_bytes(0xFF);
  }
  // Every set gets set 0's input: the time depends on where the bytes are, not their values.
  void replicate_input(cudaStream_t stream) {
    for (int s = 1; s < sets_; ++s) {
      FP8KIT_CUDA_CHECK(cudaMemcpyAsync(at(x_, x_stride_, s), x_.data(), x_bytes_, cudaMemcpyDeviceToDevice, stream));
    }
  }
  std::vector<std::uint8_t> download_q(int set) const {
    std::vector<std::uint8_t> host(q_bytes_);
    q_.download(host.data(), q_bytes_, q_stride_ * static_cast<std::size_t>(set));
    return host;
  }
  std::vector<float> download_scales(int set) const {
    std::vector<float> host(static_cast<std::size_t>(scale_elems_));
    s_.download(host.data(), host.size() * 4, s_stride_ * static_cast<std::size_t>(set));
    return host;
  }

 private:
  static void* at(const cuda::DeviceBuffer& b, std::size_t stride, int set) {
    return b.as<std::byte>() + stride * static_cast<std::size_t>(set);
  }
  QuantConfig config_;
  DType dtype_;
  int sets_;
  std::size_t x_bytes_, q_bytes_;
  std::int64_t scale_elems_;
  std::size_t x_stride_, q_stride_, s_stride_;
  cuda::DeviceBuffer x_, q_, s_;
};

std::optional<std::string> check_set(const QuantBuffers& b, const QuantConfig& c, const ref::QuantOutput& expected,
                                     int set) {
  const auto q = b.download_q(set);
  const auto s = b.download_scales(set);
  return first_mismatch(expected, c.m, c.h, q, s);
}

struct ShapeInputs {
  std::int64_t m = -1, h = -1;
  std::vector<std::byte> normal, adversarial;
};

class QuantSuiteRunner {
 public:
  QuantSuiteRunner(const QuantSuiteOptions& options, std::uint64_t seed, const cuda::DeviceInfo& device,
                   double copy_gbps, double empty_us, cudaStream_t stream)
      : options_(options), seed_(seed), device_(device), copy_gbps_(copy_gbps), empty_us_(empty_us), stream_(stream) {}

  // Both implementations of one configuration, against the same reference.
  std::vector<QuantMeasurement> measure(const QuantConfig& config) {
    prepare_inputs(config);
    const ref::QuantOutput expected =
        ref::quantize(inputs_.normal.data(), options_.dtype, config.m, config.h, config.h, config.spec);
    std::optional<ref::QuantOutput> expected_adversarial;
    if (options_.check) {
      expected_adversarial =
          ref::quantize(inputs_.adversarial.data(), options_.dtype, config.m, config.h, config.h, config.spec);
    }
    const QuantBytes bytes = quant_bytes(config, options_.dtype);
    std::vector<QuantMeasurement> rows;
    for (QuantImpl impl : options_.impls) {
      QuantMeasurement row{config, impl, "ok", {}, bytes, copy_gbps_, empty_us_};
      try {
        if (auto why = verify_and_time(config, impl, expected, expected_adversarial, row.us)) row.status = failed_status(*why);
      } catch (const Error& e) {
        // The implementation refused a valid configuration, or its kernel did not compile: a
        // failure of that provider, and the others still run. A missing GPU, or a fault that
        // poisoned the context (every later call would fail too), ends the run.
        if (e.kind() == ErrorKind::kEnvironment) throw;
        FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
        (void)cudaGetLastError();  // a non-sticky launch error is this provider's alone
        row.status = failed_status(e.what());
      }
      rows.push_back(row);
    }
    return rows;
  }

 private:
  void prepare_inputs(const QuantConfig& c) {
    if (inputs_.m == c.m && inputs_.h == c.h) return;  // configurations come grouped by shape
    const std::uint64_t s = shape_seed(seed_, c.m, c.h);
    inputs_.m = c.m;
    inputs_.h = c.h;
    inputs_.normal = make_quant_input(options_.dtype, c.m, c.h, s, InputKind::kNormal);
    inputs_.adversarial.clear();
    if (options_.check) inputs_.adversarial = make_quant_input(options_.dtype, c.m, c.h, s + 1, InputKind::kAdversarial);
  }

  // The first mismatch, or nullopt after a clean run with `us` filled.
  std::optional<std::string> verify_and_time(const QuantConfig& c, QuantImpl impl, const ref::QuantOutput& expected,
                                             const std::optional<ref::QuantOutput>& expected_adversarial, Summary& us) {
    int sets = 1;
    if (options_.timing == TimingMode::kCold) {
      sets = cold_input_sets(QuantBuffers::bytes_per_set(c, options_.dtype), device_.l2_bytes);
    }
    QuantBuffers b(c, options_.dtype, sets);
    const QuantizeOptions qopt{impl, options_.programmatic_launch};
    auto launch = [&](cudaStream_t stream, int set) { quantize(b.x(set), b.q(set), b.scales(set), c.spec, stream, qopt); };
    auto run_once = [&](const std::vector<std::byte>& input, const ref::QuantOutput& ref_out,
                        const char* what) -> std::optional<std::string> {
      b.load_input(input);
      launch(stream_, 0);
      FP8KIT_CUDA_CHECK(cudaGetLastError());
      FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
      if (auto why = check_set(b, c, ref_out, 0)) return fmt::format("{}: {}", what, *why);
      return std::nullopt;
    };
    if (expected_adversarial) {
      if (auto why = run_once(inputs_.adversarial, *expected_adversarial, "adversarial input")) return why;
    }
    // The random input last: it is what the timed calls read.
    if (auto why = run_once(inputs_.normal, expected, "random input")) return why;
    b.replicate_input(stream_);
    us = time_launches(launch, sets, stream_);
    if (options_.check) {
      for (int set : {0, sets - 1}) {
        if (auto why = check_set(b, c, expected, set)) return fmt::format("after timing, input set {}: {}", set, *why);
      }
    }
    return std::nullopt;
  }

  const QuantSuiteOptions& options_;
  std::uint64_t seed_;
  cuda::DeviceInfo device_;
  double copy_gbps_;
  double empty_us_;
  cudaStream_t stream_;
  ShapeInputs inputs_;
};

std::uint64_t fresh_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) | rd();
}

bool has_impl(const QuantSuiteOptions& o, QuantImpl impl) {
  for (QuantImpl i : o.impls) {
    if (i == impl) return true;
  }
  return false;
}

void print_block(std::span<const QuantMeasurement> rows) {
  for (const QuantMeasurement& r : rows) {
    if (r.ok()) continue;
    // The first line only: a compiler log can run to pages; the records keep all of it.
    const std::string first_line = r.status.substr(0, r.status.find('\n'));
    fmt::print("{} M={} H={} {} {}: {}{}\n", quant_impl_name(r.impl), r.config.m, r.config.h, r.config.group_label(),
               r.config.layout_label(), first_line, first_line.size() < r.status.size() ? " [...]" : "");
  }
  fmt::print("{}\n", quant_table(rows).render());
  std::fflush(stdout);
}

}  // namespace

QuantSuiteResult run_quant_suite(const QuantSuiteOptions& options, const std::string& command_line) {
  validate_options(options);
  cuda::require_sm90("fp8kit bench quant");
  const cuda::DeviceInfo device = cuda::current_device_info();
  const RunContext context = current_run_context(options.timing, command_line);
  QuantSuiteResult result;
  result.seed = options.seed.value_or(fresh_seed());

  fmt::print("fp8kit bench quant on {} ({}), {} input, timing {}, seed {} (--seed {} reproduces the inputs)\n",
             device.name, device.uuid, dtype_name(options.dtype), timing_mode_name(options.timing), result.seed,
             result.seed);
  const QuantPlan plan = expand_configs(options);
  for (const SkippedConfigs& s : plan.skipped) {
    fmt::print("skipped {} configuration(s) with H={} and group size {}: {}\n", s.count, s.h, s.group_size, s.reason);
  }
  std::fflush(stdout);  // keep the header ahead of any error on stderr
  cuda::Stream stream;
  const double copy_gbps = stored_copy_ceiling(device, stream.get());
  const Summary empty = measure_launch_floor(stream.get(), jit::LaunchOrder::kSerial);
  const Summary empty_pdl = measure_launch_floor(stream.get(), jit::LaunchOrder::kProgrammatic);
  fmt::print("launch floor: an empty kernel takes {:.2f} µs a call in graph replay ({:.2f} µs launched programmatically);\n"
             "x empty is µs / {:.2f}. fp8kit launches {}.\n",
             empty.median, empty_pdl.median, empty.median,
             options.programmatic_launch ? "programmatically (PDL; --no-pdl: plain)" : "plainly (--no-pdl)");
  fmt::print("GB/s counts one read of x, the FP8 write and the scales; % floor compares the time with the least\n"
             "traffic at the copy bandwidth (dynamic per-tensor must read x twice; otherwise it equals % copy).\n"
             "{}\n\n",
             options.check ? "--check: each implementation is verified on a random and an adversarial input, and again after timing."
                           : "Each implementation is verified on the random input before it is timed.");

  QuantSuiteRunner runner(options, result.seed, device, copy_gbps, empty.median, stream.get());
  std::vector<ResultRecord> records;
  std::size_t block_start = 0;
  for (std::size_t i = 0; i < plan.configs.size(); ++i) {
    for (QuantMeasurement& row : runner.measure(plan.configs[i])) {
      if (!row.ok()) ++result.failed;
      records.push_back(quant_record(row, options.dtype, result.seed, context));
      result.rows.push_back(std::move(row));
    }
    const bool block_ends = i + 1 == plan.configs.size() || plan.configs[i + 1].h != plan.configs[i].h;
    if (block_ends) {
      print_block(std::span(result.rows).subspan(block_start));
      block_start = result.rows.size();
      result.files = write_result_files(options.out_dir, "quant_results", records);
    }
  }
  if (plan.configs.empty()) result.files = write_result_files(options.out_dir, "quant_results", records);

  if (has_impl(options, QuantImpl::kNaive) && has_impl(options, QuantImpl::kFp8kit)) {
    result.speedups = geomean_speedups(result.rows, QuantImpl::kNaive, QuantImpl::kFp8kit);
    fmt::print("Speedup of fp8kit over naive: geometric mean of naive µs / fp8kit µs per configuration;\n"
               "configurations where either FAILED are excluded.\n{}\n",
               speedup_table(result.speedups, QuantImpl::kNaive, QuantImpl::kFp8kit).render());
  }
  fmt::print("{} records in {} and {}\n", records.size(), result.files.jsonl.string(), result.files.csv.string());
  return result;
}

}  // namespace fp8kit::bench
