// What `fp8kit bench gemm` reports: one measurement per (shape, batch size, run), the per-shape
// TFLOP/s and relative-error tables (speed and accuracy on one page), the result records and the
// progress line. Pure C++: tested without a GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bench/gemm_plan.hpp"
#include "bench/table.hpp"
#include "core/result.hpp"
#include "core/stats.hpp"
#include "cuda/device.hpp"

namespace fp8kit::bench {

struct GemmMeasurement {
  std::int64_t m = 0, n = 0, k = 0;
  std::string models;  // GemmShapeEntry::models_text()
  std::string tps;     // GemmShapeEntry::tps_text()
  GemmRun run;
  // "ok"; "FAILED: <why>" (wrong output or an error while running); "unsupported: <why>" (the
  // backend refused the call, e.g. cuBLASLt's block scales with M % 4 != 0). Only "ok" rows carry
  // a time and an error.
  std::string status = "ok";
  Summary us;                 // per-call time, microseconds
  double rel_error = 0;       // against the double product of the unquantized bf16 inputs
  std::int64_t error_rows = 0;  // rows that rel_error covers (all M, or kSampleRows sampled)
  bool fast_accum = false;    // as run (never with block scales or bf16)
  ActDist act_dist = ActDist::kNormal;
  bool b_is_weight = false;   // as run: ScaledMmOptions::b_is_weight (fp8kit -noquant rows only)
  bool hot_activations = false;  // cold timing with the activations kept in L2 (GemmSuiteOptions)
  // cuBLASLt's block-scaled kernels need M % 4 == 0: at another M the baseline is timed at M padded
  // to the next multiple of 4 (vLLM's way) and reported for M; 0 when run at M itself.
  std::int64_t padded_m = 0;
  // Bytes that must move (DESIGN.md §7): the call's inputs, their scales and its output, read or
  // written once; a workspace between the quantization and the GEMM is not counted.
  double bytes = 0;
  // Backend fp8kit: the kernel that ran (kernel_name of the tuned config or the heuristic's).
  std::string kernel{};
  // Cold timing: the cold-read floor of `bytes` (ColdReadFloor::us), microseconds; 0 otherwise.
  double read_floor_us = 0;

  bool ok() const { return status == "ok"; }
  bool failed() const { return status.rfind("FAILED", 0) == 0; }
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
  double tflops(double us_value) const { return flops() / (us_value * 1e6); }
  double gbps(double us_value) const { return bytes / (us_value * 1e3); }
};

// Rows: batch size; one column per run label. TFLOP/s cell "median (p20-p80)" where p20/p80 are
// the TFLOP/s of the p80/p20 times; "FAILED" for a failure; "n/a" where the backend refused the
// call; "-" where the run did not measure the shape (skipped). `rows` holds the measurements of one (N, K).
Table tflops_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs);
// Same layout; cell: relative error in scientific notation ("3.12e-02").
Table error_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs);

// Same layout; cell: "GB/s (percent of copy_gbps)" at the median time, e.g. "3812 (90%)", and where
// the row has a read floor, the floor's time as a percent of the row's: "3812 (90% / 97%)".
Table bandwidth_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs, double copy_gbps);

// One shape's block of `bench gemm`'s output on stdout: the tables (bandwidth where copy_gbps > 0,
// i.e. cold timing, where weights come from HBM), a note for padded baselines, the first line of
// each failure.
void print_gemm_shape(const GemmShapeEntry& shape, std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs,
                      double copy_gbps = 0);

// suite "gemm", name = run label; params m, n, k, models, tp, provider, backend, out_dtype (bfloat16),
// fast_accum (0/1), act_dist, seed, error_rows, and kernel for backend fp8kit; metrics (when ok) tflops_median/p20/p80,
// us_median/p20/p80, rel_error, gbps_median (bytes that must move / median time),
// copy_ceiling_gbps and pct_copy_ceiling where copy_gbps > 0, and read_floor_us and pct_read_floor
// (the floor's time over the median, in %) where the row has a read floor.
ResultRecord gemm_record(const GemmMeasurement& row, std::uint64_t seed, const RunContext& context,
                         double copy_gbps = 0);

// The kernel backend fp8kit ran for an ok FP8 row on `device`, chosen as scaled_mm chooses it; "" for
// other rows.
std::string fp8kit_kernel_name(const GemmMeasurement& row, const cuda::DeviceInfo& device);

// "[#####.....]  12/40  30%  N=6144 K=4096 M=64" (bar `width` characters) for a terminal, redrawn
// with '\r'; plain_progress gives "[12/40] N=6144 K=4096 M=64" for logs.
std::string progress_bar(std::size_t done, std::size_t total, std::string_view what, int width = 30);
std::string plain_progress(std::size_t done, std::size_t total, std::string_view what);

// The progress of `total` steps on stderr: progress_bar redrawn on a terminal, else plain_progress
// lines.
class ProgressLine {
 public:
  explicit ProgressLine(std::size_t total);
  void step(std::string_view what);
  void clear();

 private:
  std::size_t total_, done_ = 0;
  bool tty_;
};

}  // namespace fp8kit::bench
