// The tuner's output for one (N, K, out dtype) on one device: the best config per batch size and a
// metadata record. The JSON maps each batch size (a string key, as vLLM's files do) to the config's
// tunable fields plus its kernel_name, beside one "metadata" object:
//   {"1": {"block_m": 64, ..., "group_size_m": 8, "kernel_name": "sm90_fp8_gemm_..."}, ...,
//    "metadata": {"format": "fp8kit-tuned-gemm", "format_version": 1, "n": 7168, "k": 2048,
//                 "out": "bfloat16", "mode_a": "group128", "mode_b": "block128", "device": "...",
//                 "versions": {...}, "date": "...", "time_spent_s": 12.5, "candidates_tried": 480,
//                 "candidates_failed": 2, "per_batch_size": {"1": {"best_tflops": ..,
//                 "default_tflops": .., "speedup": .., "default_kernel_name": .., "candidates_tried": ..,
//                 "candidates_failed": ..}, ...}}}
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "core/gemm_config.hpp"

namespace fp8kit {

// "NVIDIA H100 80GB HBM3" -> "NVIDIA_H100_80GB_HBM3": spaces (and anything but letters, digits,
// '.', '-', '_') become '_', so the name is one safe path component.
std::string device_file_tag(std::string_view device_name);

// The scale pair a tuned file is for (its metadata's mode_a and mode_b): block scaling unless named.
struct TunedScales {
  ScaleModeA a = ScaleModeA::kGroup128;
  ScaleModeB b = ScaleModeB::kBlock128;
  bool operator==(const TunedScales&) const = default;
};
// "block128x128" for group128 x block128 (vLLM's spelling), else kernel_name's: "a-token_b-channel".
std::string tuned_scales_tag(TunedScales scales);

// fp8kit_w8a8_{tuned_scales_tag}_N={N},K={K},out={dtype},device={tag}.json
std::string tuned_config_file_name(std::int64_t n, std::int64_t k, DType out, std::string_view device_name,
                                   TunedScales scales = {});
inline constexpr std::string_view kTunedFilePrefix = "fp8kit_w8a8_";


inline constexpr std::string_view kTunedFileFormat = "fp8kit-tuned-gemm";
inline constexpr int kTunedFileFormatVersion = 1;

struct TunedBatch {
  GemmConfig config;  // the fastest verified config at this M
  double best_tflops = 0;
  double default_tflops = 0;  // the default heuristic's config, measured in the same run (0: it failed)
  std::string default_kernel_name;
  int candidates_tried = 0;
  int candidates_failed = 0;
  bool operator==(const TunedBatch&) const = default;
};

struct TunedConfigFile {
  std::int64_t n = 0, k = 0;
  DType out = DType::kBFloat16;
  ScaleModeA mode_a = ScaleModeA::kGroup128;
  ScaleModeB mode_b = ScaleModeB::kBlock128;
  std::string device;
  std::map<std::string, std::string> versions;  // cuda_runtime, cuda_driver, nvrtc, fp8kit, git, ...
  std::string date_utc;
  double time_spent_s = 0;  // worker time its searches took, summed over workers and resumed runs
  std::map<std::int64_t, TunedBatch> batches;  // by M
  bool operator==(const TunedConfigFile&) const = default;

  int candidates_tried() const;
  int candidates_failed() const;
};

std::string tuned_file_name(const TunedConfigFile& file);  // tuned_config_file_name of its fields
std::string to_json_text(const TunedConfigFile& file);     // pretty-printed, ends with '\n'

// Validates everything: format and version, every key an M >= 1 with its per-batch record, each
// config valid under the rules and equal to its kernel_name, the out dtype and modes of the
// configs the file's. Throws kInvalidArgument "<where>: ..." naming what is wrong.
TunedConfigFile parse_tuned_config_file(std::string_view text, std::string_view where);

// Atomic (write_file_atomic): a reader sees the previous file or the whole new one. Returns the path.
std::filesystem::path write_tuned_config_file(const std::filesystem::path& dir, const TunedConfigFile& file);
TunedConfigFile read_tuned_config_file(const std::filesystem::path& path);

}  // namespace fp8kit
