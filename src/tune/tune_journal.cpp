#include "tune/tune_journal.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "core/gemm_config_json.hpp"

namespace fp8kit::tune {
namespace {

using nlohmann::json;

std::string_view kind_name(JournalEntry::Kind k) {
  switch (k) {
    case JournalEntry::Kind::kCandidate: return "candidate";
    case JournalEntry::Kind::kDefault: return "default";
    case JournalEntry::Kind::kSession: return "session";
    case JournalEntry::Kind::kRecheck: return "recheck";
  }
  return "?";
}

}  // namespace

std::string to_journal_line(const JournalEntry& e) {
  json j = {{"kind", kind_name(e.kind)}};
  if (e.kind == JournalEntry::Kind::kSession) {
    j["seconds"] = e.seconds;
  } else {
    j["m"] = e.m;
    j["config"] = config_to_json(e.config);
    j["kernel_name"] = kernel_name(e.config);
    if (e.us) j["us"] = *e.us;
    else j["error"] = e.error;
    if (e.cold) j["cold"] = true;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

JournalEntry parse_journal_line(std::string_view line, std::string_view where) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    throw_invalid_argument(fmt::format("{}: not JSON: {}", where, e.what()));
  }
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
    throw_invalid_argument(fmt::format("{}: not a journal entry", where));
  }
  JournalEntry e;
  const std::string kind = j["kind"].get<std::string>();
  if (kind == "session") {
    e.kind = JournalEntry::Kind::kSession;
    if (!j.contains("seconds") || !j["seconds"].is_number()) throw_invalid_argument(fmt::format("{}: bad seconds", where));
    e.seconds = j["seconds"].get<double>();
    return e;
  }
  if (kind == "candidate") e.kind = JournalEntry::Kind::kCandidate;
  else if (kind == "default") e.kind = JournalEntry::Kind::kDefault;
  else if (kind == "recheck") e.kind = JournalEntry::Kind::kRecheck;
  else throw_invalid_argument(fmt::format("{}: unknown kind \"{}\"", where, kind));
  if (!j.contains("m") || !j["m"].is_number_integer()) throw_invalid_argument(fmt::format("{}: bad m", where));
  e.m = j["m"].get<std::int64_t>();
  if (!j.contains("config")) throw_invalid_argument(fmt::format("{}: missing config", where));
  e.config = config_from_json(j["config"], where);
  e.cold = j.value("cold", false);
  if (j.contains("us")) {
    if (!j["us"].is_number()) throw_invalid_argument(fmt::format("{}: bad us", where));
    e.us = j["us"].get<double>();
  } else {
    if (!j.contains("error") || !j["error"].is_string()) throw_invalid_argument(fmt::format("{}: neither us nor error", where));
    e.error = j["error"].get<std::string>();
  }
  return e;
}

Journal read_journal(const std::filesystem::path& path) {
  Journal journal;
  if (!std::filesystem::exists(path)) return journal;
  const std::string text = read_file(path);
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    const std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) {  // an unterminated last line: a write cut short
      journal.dropped_truncated_tail = true;
      break;
    }
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    journal.entries.push_back(parse_journal_line(line, fmt::format("{}:{}", path.string(), line_no)));
  }
  return journal;
}

void append_journal(const std::filesystem::path& path, const JournalEntry& entry) {
  append_line(path, to_journal_line(entry));
}

}  // namespace fp8kit::tune

namespace fp8kit::tune {
void rewrite_journal(const std::filesystem::path& path, const std::vector<JournalEntry>& entries) {
  std::string text;
  for (const JournalEntry& e : entries) text += to_journal_line(e) + "\n";
  write_file_atomic(path, text);
}
}  // namespace fp8kit::tune
