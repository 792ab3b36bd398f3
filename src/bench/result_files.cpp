#include "bench/result_files.hpp"

#include <string>

#include "core/files.hpp"

namespace fp8kit::bench {

ResultFiles result_files(const std::filesystem::path& dir, std::string_view stem) {
  const std::string s(stem);
  return {dir / (s + ".jsonl"), dir / (s + ".csv")};
}

ResultFiles write_result_files(const std::filesystem::path& dir, std::string_view stem,
                               std::span<const ResultRecord> records) {
  const ResultFiles files = result_files(dir, stem);
  std::string lines;
  for (const ResultRecord& r : records) lines += to_jsonl_line(r) + "\n";
  write_file_atomic(files.jsonl, lines);
  write_csv(files.csv, records);
  return files;
}

}  // namespace fp8kit::bench
