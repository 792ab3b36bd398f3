#include "bench/gemm_suite.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "bench/ceilings.hpp"
#include "bench/cold_read.hpp"
#include "bench/gemm_operands.hpp"
#include "bench/gemm_verify.hpp"
#include "bench/quant_verify.hpp"
#include "bench/run_context.hpp"
#include "bench/timing.hpp"
#include "core/plot.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "ops/scaled_mm_checks.hpp"

namespace fp8kit::bench {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }
std::int64_t round_up(std::int64_t v, std::int64_t to) { return (v + to - 1) / to * to; }

// What an FP8 scale pair's output must be at one (shape, M), shared by its -noquant and with-quant
// providers and by every backend.
struct PairExpected {
  bool full_cpu = false;
  std::vector<double> cpu;             // full (M, N) when full_cpu, else the sampled rows
  std::vector<std::byte> reference;    // large shapes: the reference backend's bf16 (M, N) output
  std::optional<std::string> oracle_failure;  // the reference backend disagreed with the CPU
};

class GemmSuiteRunner {
 public:
  GemmSuiteRunner(const GemmSuiteOptions& options, const GemmPlan& plan, std::uint64_t seed,
                  const cuda::DeviceInfo& device, cudaStream_t stream)
      : options_(options), plan_(plan), seed_(seed), device_(device), stream_(stream) {}

  std::int64_t max_m() const { return *std::max_element(options_.batch_sizes.begin(), options_.batch_sizes.end()); }

  void begin_shape(const GemmShapeEntry& shape) {
    n_ = shape.n;
    k_ = shape.k;
    wq_.clear();
    w_dev_ = {};
    w_host_ = make_gemm_input(n_, k_, ActDist::kNormal, shape_seed(seed_, n_, k_));
    w_dev_ = cuda::DeviceBuffer(w_host_.size());
    upload(w_dev_, w_host_);
    if (act_k_ != k_) {  // activations per K: the largest batch, of which each M takes the first rows
      x_dev_ = {};
      // Rows up to the largest M rounded up to 4: cuBLASLt's padded baseline reads them.
      x_host_ = make_gemm_input(round_up(max_m(), 4), k_, options_.act_dist, shape_seed(seed_, 0, k_));
      x_dev_ = cuda::DeviceBuffer(x_host_.size());
      upload(x_dev_, x_host_);
      act_k_ = k_;
    }
    for (const GemmRun& run : plan_.runs) {
      if (!run.provider.fp8 || wq_.contains(run.provider.weight) || shape_skip_reason(run, n_, k_)) continue;
      wq_.emplace(run.provider.weight, quantize_operand(w_view(), weight_spec(run.provider.weight),
                                                        scale_b_elems(run.provider.weight, n_, k_), stream_));
    }
  }

  // Every run at M; cuBLASLt's block-scaled runs at M % 4 != 0 at M rounded up to 4 (vLLM pads so),
  // reported for M.
  std::vector<GemmMeasurement> measure(const GemmShapeEntry& shape, std::int64_t m) {
    std::vector<const GemmRun*> at_m, padded;
    for (const GemmRun& run : plan_.runs) {
      if (shape_skip_reason(run, n_, k_)) continue;
      const bool pad = run.backend == GemmBackend::kCublasLt && run.provider.fp8 &&
                       !ops::cublaslt_supports_m(run.provider.act, run.provider.weight, m);
      (pad ? padded : at_m).push_back(&run);
    }
    std::vector<GemmMeasurement> rows = measure_runs(shape, m, at_m);
    if (!padded.empty()) {
      for (GemmMeasurement& row : measure_runs(shape, round_up(m, 4), padded)) {
        row.padded_m = row.m;
        row.m = m;
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }

 private:
  std::vector<GemmMeasurement> measure_runs(const GemmShapeEntry& shape, std::int64_t m,
                                            const std::vector<const GemmRun*>& runs) {
    m_ = m;
    aq_.clear();
    expected_.clear();
    small_ = m * n_ * k_ <= kCpuVerifyMacs;
    rows_ = sample_rows(m, small_ ? m : kSampleRows);
    const std::vector<std::byte> x_rows = gather_rows(x_host_, sz(k_) * 2, rows_);
    unquantized_ = parallel_gemm(x_rows, static_cast<std::int64_t>(rows_.size()), w_host_, n_, k_);
    out_ = cuda::DeviceBuffer(sz(m * n_) * 2);
    std::size_t ws = 0;
    for (const GemmRun* run : runs) {
      if (run->provider.fp8 && !run->provider.noquant) ws = std::max(ws, linear_workspace_bytes(m, k_, run->provider.act));
    }
    workspace_ = cuda::DeviceBuffer(ws);

    std::vector<GemmMeasurement> rows;
    for (const GemmRun* run_ptr : runs) {
      const GemmRun& run = *run_ptr;
      const bool fast = options_.fast_accum && run.provider.fp8 && run.provider.weight != ScaleModeB::kBlock128;
      GemmMeasurement row{m,  n_,  k_, shape.models_text(), shape.tps_text(), run, "ok", {}, 0,
                          static_cast<std::int64_t>(rows_.size()), fast, options_.act_dist};
      row.b_is_weight =
          options_.b_is_weight && run.provider.fp8 && run.provider.noquant && run.backend == GemmBackend::kFp8kit;
      row.hot_activations = options_.hot_activations;
      bool called = false;
      try {
        measure_run(row, called);
      } catch (const Error& e) {
        // A missing GPU ends the run; a refused call is "unsupported"; anything else (a kernel
        // that did not compile, a launch error) is this provider's failure and the others go on.
        if (e.kind() == ErrorKind::kEnvironment) throw;
        FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
        (void)cudaGetLastError();
        row.status = (!called && e.kind() == ErrorKind::kInvalidArgument ? "unsupported: " : "FAILED: ") +
                     std::string(e.what());
      }
      row.kernel = fp8kit_kernel_name(row, device_);
      rows.push_back(std::move(row));
    }
    return rows;
  }

  TensorView w_view() const { return TensorView::matrix(w_dev_.data(), DType::kBFloat16, n_, k_, k_); }
  TensorView x_view() const { return TensorView::matrix(x_dev_.data(), DType::kBFloat16, m_, k_, k_); }
  TensorView out_view() const { return TensorView::matrix(out_.data(), DType::kBFloat16, m_, n_, n_); }

  QuantOperand& activations(ScaleModeA act) {
    auto it = aq_.find(act);
    if (it == aq_.end()) {
      it = aq_.emplace(act, quantize_operand(x_view(), ops::linear_quant_spec(act), scale_a_elems(act, m_, k_), stream_))
               .first;
    }
    return it->second;
  }

  HostScaledA host_activations(ScaleModeA act) {
    QuantOperand& a = activations(act);
    a.download();
    return HostScaledA{m_, k_, act, a.host_q, a.host_s};
  }

  const PairExpected& expected(ScaleModeA act, ScaleModeB weight) {
    const auto key = std::make_pair(static_cast<int>(act), static_cast<int>(weight));
    auto it = expected_.find(key);
    if (it != expected_.end()) return it->second;
    PairExpected e;
    QuantOperand& w = wq_.at(weight);
    w.download();
    const HostScaledA a = host_activations(act);
    if (small_) {
      e.full_cpu = true;
      e.cpu = parallel_scaled_gemm(a, w.host_q, weight, w.host_s, n_);
    } else {
      e.cpu = parallel_scaled_gemm(select_rows(a, rows_), w.host_q, weight, w.host_s, n_);
      cuda::DeviceBuffer ref_out(sz(m_ * n_) * 2);
      FP8KIT_CUDA_CHECK(cudaMemsetAsync(ref_out.data(), 0xFF, ref_out.bytes(), stream_));
      QuantOperand& aq = activations(act);
      scaled_mm(aq.q_view(), w.q_view(), act, aq.s_view(), weight, w.s_view(), with_data(out_view(), ref_out.data()),
                std::nullopt, stream_, ScaledMmOptions{GemmBackend::kReference, false});
      FP8KIT_CUDA_CHECK(cudaGetLastError());
      FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
      e.reference.resize(ref_out.bytes());
      ref_out.download(e.reference.data(), e.reference.size());
      const std::vector<std::byte> ref_rows = gather_rows(e.reference, sz(n_) * 2, rows_);
      if (auto why = check_output(e.cpu, ref_rows, static_cast<std::int64_t>(rows_.size()), n_, kVerifyTolerance,
                                  "the CPU reference on sampled rows", rows_)) {
        e.oracle_failure = "the reference backend itself: " + *why;
      }
    }
    return expected_.emplace(key, std::move(e)).first->second;
  }

  // Verifies, measures the accuracy, then times one run; sets row.status on a wrong output.
  void measure_run(GemmMeasurement& row, bool& called) {
    const GemmProvider& p = row.run.provider;
    const ScaledMmOptions mm_options{row.run.backend, row.fast_accum, row.b_is_weight};
    const bool cold_acts = !row.hot_activations;  // activations rotate with the weights unless kept in L2
    std::vector<RotationPart> parts;
    std::function<void(cudaStream_t, const Rotation&, int)> call;
    const std::size_t out_bytes = sz(m_ * n_) * 2;
    if (!p.fp8) {
      parts = {{x_dev_.data(), sz(m_ * k_) * 2, cold_acts}, {w_dev_.data(), sz(n_ * k_) * 2}, {out_.data(), out_bytes}};
      call = [this](cudaStream_t s, const Rotation& r, int set) {
        mm(with_data(x_view(), r.at(0, set)), with_data(w_view(), r.at(1, set)), with_data(out_view(), r.at(2, set)),
           std::nullopt, s);
      };
    } else {
      QuantOperand& w = wq_.at(p.weight);
      if (p.noquant) {
        QuantOperand& a = activations(p.act);
        parts = {{a.q.data(), sz(m_ * k_), cold_acts},
                 {a.s.data(), sz(a.scale_elems) * 4, cold_acts},
                 {w.q.data(), sz(n_ * k_)},
                 {w.s.data(), sz(w.scale_elems) * 4},
                 {out_.data(), out_bytes}};
        call = [this, &a, &w, p, mm_options](cudaStream_t s, const Rotation& r, int set) {
          scaled_mm(with_data(a.q_view(), r.at(0, set)), with_data(w.q_view(), r.at(2, set)), p.act,
                    with_data(a.s_view(), r.at(1, set)), p.weight, with_data(w.s_view(), r.at(3, set)),
                    with_data(out_view(), r.at(4, set)), std::nullopt, s, mm_options);
        };
      } else {
        parts = {{x_dev_.data(), sz(m_ * k_) * 2, cold_acts},
                 {w.q.data(), sz(n_ * k_)},
                 {w.s.data(), sz(w.scale_elems) * 4},
                 {workspace_.data(), linear_workspace_bytes(m_, k_, p.act)},
                 {out_.data(), out_bytes}};
        call = [this, &w, p, mm_options](cudaStream_t s, const Rotation& r, int set) {
          const TensorView ws = TensorView::contiguous(r.at(3, set), DType::kE4M3,
                                                       {static_cast<std::int64_t>(linear_workspace_bytes(m_, k_, p.act))});
          linear(with_data(x_view(), r.at(0, set)), with_data(w.q_view(), r.at(1, set)),
                 with_data(w.s_view(), r.at(2, set)), LinearStrategy{p.act, p.weight}, with_data(out_view(), r.at(4, set)),
                 std::nullopt, ws, s, mm_options);
        };
      }
    }
    for (const RotationPart& part : parts) {
      row.bytes += part.ptr == workspace_.data() ? 0.0 : static_cast<double>(part.bytes);
    }
    const Rotation once(parts, device_, TimingMode::kGraph, stream_);

    // Verify: poison the output, one call, compare.
    FP8KIT_CUDA_CHECK(cudaMemsetAsync(out_.data(), 0xFF, out_bytes, stream_));  // bf16 NaN
    called = false;
    call(stream_, once, 0);
    called = true;
    FP8KIT_CUDA_CHECK(cudaGetLastError());
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::vector<std::byte> got(out_bytes);
    out_.download(got.data(), got.size());
    const std::vector<std::byte> got_rows = small_ ? std::vector<std::byte>{} : gather_rows(got, sz(n_) * 2, rows_);
    const std::span<const std::byte> sampled = small_ ? std::span<const std::byte>(got) : std::span<const std::byte>(got_rows);
    const auto nrows = static_cast<std::int64_t>(rows_.size());
    const double tol = row.fast_accum ? kFastAccumTolerance : kVerifyTolerance;
    std::optional<std::string> why;
    if (!p.fp8) {
      why = check_output(unquantized_, sampled, nrows, n_, tol,
                         small_ ? "the CPU product of the bf16 inputs" : "the CPU product of the bf16 inputs on sampled rows",
                         rows_);
    } else {
      const PairExpected& e = expected(p.act, p.weight);
      if (e.full_cpu) {
        why = check_output(e.cpu, got, m_, n_, tol, "the CPU reference on the same FP8 inputs");
      } else if (e.oracle_failure) {
        why = e.oracle_failure;
      } else {
        why = check_output(e.cpu, sampled, nrows, n_, tol, "the CPU reference on the same FP8 inputs, sampled rows", rows_);
        if (!why && row.run.backend != GemmBackend::kReference) {
          why = check_output_bf16(e.reference, got, m_, n_, tol, "the reference backend on the same FP8 inputs");
        }
      }
    }
    if (why) {
      row.status = "FAILED: " + *why;
      return;
    }
    row.rel_error = ref::relative_error(unquantized_, nrows, n_, DType::kBFloat16, sampled, n_);

    const Rotation rotation(parts, device_, options_.timing, stream_);
    row.us = time_launches([&](cudaStream_t s, int set) { call(s, rotation, set); }, rotation.sets(), stream_);
  }

  const GemmSuiteOptions& options_;
  const GemmPlan& plan_;
  std::uint64_t seed_;
  cuda::DeviceInfo device_;
  cudaStream_t stream_;

  std::int64_t act_k_ = -1;
  std::vector<std::byte> x_host_;  // (max M, K) bf16
  cuda::DeviceBuffer x_dev_;

  std::int64_t n_ = 0, k_ = 0, m_ = 0;
  std::vector<std::byte> w_host_;  // (N, K) bf16
  cuda::DeviceBuffer w_dev_;
  std::map<ScaleModeB, QuantOperand> wq_;

  bool small_ = true;
  std::vector<std::int64_t> rows_;
  std::vector<double> unquantized_;  // (rows_, N): the double product of the bf16 inputs
  std::map<ScaleModeA, QuantOperand> aq_;
  std::map<std::pair<int, int>, PairExpected> expected_;
  cuda::DeviceBuffer out_, workspace_;
};

std::uint64_t fresh_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) | rd();
}

}  // namespace

GemmSuiteResult run_gemm_suite(const GemmSuiteOptions& options, const std::string& command_line) {
  const GemmPlan plan = make_plan(options);  // bad flags and models: exit 2, before the GPU check
  cuda::require_sm90("fp8kit bench gemm");
  const cuda::DeviceInfo device = cuda::current_device_info();
  const RunContext context = current_run_context(options.timing, command_line);
  GemmSuiteResult result;
  result.seed = options.seed.value_or(fresh_seed());

  fmt::print("fp8kit bench gemm on {} ({}), bf16 out, timing {}, activations {}, fast accumulation {}{}{}, seed {} "
             "(--seed {} reproduces the inputs)\n",
             device.name, device.uuid, timing_mode_name(options.timing), act_dist_name(options.act_dist),
             options.fast_accum ? "on (non-block FP8)" : "off",
             options.b_is_weight ? ", B is a weight (fp8kit -noquant)" : "",
             options.hot_activations ? ", activations kept in L2" : "", result.seed, result.seed);
  fmt::print("{} shape(s) x {} batch size(s) x {} run(s)\n", plan.shapes.size(), options.batch_sizes.size(),
             plan.runs.size());
  for (const SkippedRun& s : plan.skipped) fmt::print("skipped {}: {}\n", s.label, s.reason);
  fmt::print("Every output is verified before it is timed: in full against the CPU when M·N·K <= 2^31; above, FP8\n"
             "against the reference backend on the same FP8 inputs (and the reference backend and BF16 on {} sampled\n"
             "rows against the CPU). The relative error covers all rows, or the same {} sampled rows above 2^31.\n"
             "-noquant: activations quantized outside the timed region; otherwise the timed region is fp8kit::linear\n"
             "(dynamic quantization of the bf16 activations, then the GEMM).\n\n",
             kSampleRows, kSampleRows);
  std::fflush(stdout);

  cuda::Stream stream;
  // Cold timing streams the weights from HBM: bandwidth is then held against the copy ceiling and,
  // at decode M, against a read of the same bytes timed alike.
  const double copy_gbps = options.timing == TimingMode::kCold ? stored_copy_ceiling(device, stream.get()) : 0.0;
  std::optional<ColdReadFloor> read_floor;
  if (options.timing == TimingMode::kCold) read_floor.emplace(device, stream.get());
  GemmSuiteRunner runner(options, plan, result.seed, device, stream.get());
  ProgressLine progress(plan.shapes.size() * options.batch_sizes.size());
  std::vector<ResultRecord> records;
  bool plots_drawn = true;
  for (const GemmShapeEntry& shape : plan.shapes) {
    for (const GemmRun& run : plan.runs) {
      if (auto why = shape_skip_reason(run, shape.n, shape.k)) {
        fmt::print("skipped {} on N={} K={}: {}\n", run.label, shape.n, shape.k, *why);
      }
    }
    runner.begin_shape(shape);
    std::vector<GemmMeasurement> shape_rows;
    std::vector<ResultRecord> shape_records;
    for (std::int64_t m : options.batch_sizes) {
      progress.step(fmt::format("N={} K={} M={}", shape.n, shape.k, m));
      for (GemmMeasurement& row : runner.measure(shape, m)) {
        if (row.failed()) ++result.failed;
        if (read_floor && row.ok() && row.m <= kReadFloorMaxM) row.read_floor_us = read_floor->us(row.bytes);
        shape_records.push_back(gemm_record(row, result.seed, context, copy_gbps));
        shape_rows.push_back(std::move(row));
      }
    }
    progress.clear();
    print_gemm_shape(shape, shape_rows, plan.runs, copy_gbps);
    records.insert(records.end(), shape_records.begin(), shape_records.end());
    result.rows.insert(result.rows.end(), shape_rows.begin(), shape_rows.end());
    result.files = write_result_files(options.out_dir, "gemm_results", records);

    const std::filesystem::path dir = options.out_dir / fmt::format("bench_fp8_res_n{}_k{}", shape.n, shape.k);
    std::filesystem::create_directories(dir);
    write_csv(dir / "results.csv", shape_records);
    for (const auto& [folder, plot] : gemm_plots(shape_records)) {
      write_plot_files(plot, dir, "tflops");
      try {
        plots_drawn = render_plot(dir, "tflops") && plots_drawn;
      } catch (const Error& e) {
        fmt::print("plot not drawn: {}\n", e.what());
        plots_drawn = false;
      }
    }
  }
  if (plan.shapes.empty() || plan.runs.empty()) result.files = write_result_files(options.out_dir, "gemm_results", records);
  if (!plots_drawn) {
    fmt::print("gnuplot is not installed (or failed): the plots' .gp scripts and .dat data are written; "
               "`fp8kit plot {} --out DIR` redraws them anywhere\n",
               result.files.jsonl.string());
  }
  fmt::print("{} records in {} and {}\n", records.size(), result.files.jsonl.string(), result.files.csv.string());
  return result;
}

}  // namespace fp8kit::bench
