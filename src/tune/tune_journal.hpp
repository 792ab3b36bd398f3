// The resume state of one work item: every measurement the tuner got back, appended as one JSON
// line the moment it arrives (append_line: a single O_APPEND write). `fp8kit tune --resume` reads
// it, replays it into the searches and measures only what is missing. A line cut short by a kill
// can only be the last one; it is dropped (that measurement is simply repeated).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/gemm_config.hpp"

namespace fp8kit::tune {

struct JournalEntry {
  enum class Kind { kCandidate, kDefault, kSession, kRecheck };  // recheck: a leader measured again
  Kind kind = Kind::kCandidate;
  std::int64_t m = 0;                // candidate, default, recheck
  GemmConfig config;                 // candidate, recheck; default: the default heuristic's pick
  std::optional<double> us;          // nullopt: failed
  std::string error;                 // why it failed
  double seconds = 0;                // session: worker time spent on the item in one invocation
  bool cold = false;                 // candidate, default, recheck: timed cold (MeasureRequest::cold)
  bool operator==(const JournalEntry&) const = default;
};

std::string to_journal_line(const JournalEntry& entry);  // one line, no '\n'
JournalEntry parse_journal_line(std::string_view line, std::string_view where);

struct Journal {
  std::vector<JournalEntry> entries;
  bool dropped_truncated_tail = false;
};

// Missing file: an empty journal. A corrupt line other than an unterminated last one throws
// kInvalidArgument "<path>:<line>: ...".
Journal read_journal(const std::filesystem::path& path);
void append_journal(const std::filesystem::path& path, const JournalEntry& entry);

}  // namespace fp8kit::tune

namespace fp8kit::tune {
// Replaces the journal atomically with `entries` (after a truncated tail was dropped, so that the
// next append does not glue onto half a line).
void rewrite_journal(const std::filesystem::path& path, const std::vector<JournalEntry>& entries);
}  // namespace fp8kit::tune
