// The one record type for every benchmark, tuning and info result (DESIGN.md §7), written as JSON
// lines (lossless, appendable) and CSV (for spreadsheets and plots).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fp8kit {

// Where and how a number was measured: enough to reproduce it.
struct RunContext {
  std::string device;                      // "NVIDIA H100 80GB HBM3"
  std::optional<std::string> device_uuid;  // absent when unknown (no GPU)
  std::string compute_capability;          // "9.0"
  std::string cuda_runtime;
  std::string cuda_driver;
  std::string nvrtc;
  std::string cublaslt;
  std::string fp8kit_version;
  std::string git_revision;
  std::string timing_mode;   // "graph" or "cold"
  std::string command_line;  // shell_quote_command(argc, argv)
  std::string date_utc;      // iso8601_utc_now()

  bool operator==(const RunContext&) const = default;
};

struct ResultRecord {
  std::string suite;                          // "quant", "gemm", "tune", "info"
  std::string name;                           // kernel_name(config) or provider
  std::map<std::string, std::string> params;  // m, n, k, dtype, ...
  std::map<std::string, double> metrics;      // us_median, us_p20, us_p80, tflops, gbps, rel_error
  std::string status;                         // "ok" or "FAILED: <why>"
  RunContext context;

  bool operator==(const ResultRecord&) const = default;
};

// Bumped when the record layout changes incompatibly; readers refuse other versions.
constexpr int kResultFormatVersion = 1;

// Non-finite metrics are written as the strings "nan", "inf", "-inf" (JSON has no such numbers)
// and read back exactly. Invalid UTF-8 in strings is replaced by U+FFFD when dumping.
nlohmann::json to_json(const ResultRecord& record);
// Validates every field; throws kInvalidArgument naming the field ("context.nvrtc") on error.
ResultRecord record_from_json(const nlohmann::json& j);

std::string to_jsonl_line(const ResultRecord& record);  // one line, no trailing '\n'
void append_jsonl(const std::filesystem::path& path, const ResultRecord& record);
// Throws kInvalidArgument "<path>:<line>: ..." on a corrupt line; a last line without '\n' is
// a truncated write and an error too. Blank lines are skipped.
std::vector<ResultRecord> read_jsonl(const std::filesystem::path& path);

// Columns: suite, name, status, every params key, every metrics key (each set sorted, the union
// over all records), then the context fields. A params/metrics key that collides with another
// column is qualified as "params.<key>" / "metrics.<key>". Missing values are empty cells; fields
// are quoted per RFC 4180; doubles use the shortest text that reads back to the same value.
std::string to_csv(std::span<const ResultRecord> records);
void write_csv(const std::filesystem::path& path, std::span<const ResultRecord> records);

std::string iso8601_utc_now();  // "2025-01-31T12:34:56Z"

// The command line, each argument quoted only where needed, so it can be pasted into a POSIX shell.
std::string shell_quote_command(int argc, char** argv);
std::string shell_quote(std::string_view arg);

}  // namespace fp8kit
