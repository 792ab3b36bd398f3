// Every benchmark writes its records twice: JSON lines (lossless) and CSV (spreadsheets, plots).
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

#include "core/result.hpp"

namespace fp8kit::bench {

struct ResultFiles {
  std::filesystem::path jsonl;  // <dir>/<stem>.jsonl
  std::filesystem::path csv;    // <dir>/<stem>.csv
};

ResultFiles result_files(const std::filesystem::path& dir, std::string_view stem);

// Replaces both files atomically with `records` (a sweep rewrites them as it goes, so an
// interrupted run leaves whole files of what was measured). Creates `dir`.
ResultFiles write_result_files(const std::filesystem::path& dir, std::string_view stem,
                               std::span<const ResultRecord> records);

}  // namespace fp8kit::bench
