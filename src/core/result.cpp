#include "core/result.hpp"

#include <array>
#include <cmath>
#include <ctime>
#include <set>
#include <type_traits>

#include <fmt/format.h>

#include "core/files.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

// The one list of context fields, in column order; used by JSON and CSV alike so they cannot drift.
template <class Context, class Visitor>
void for_each_context_field(Context& c, Visitor&& visit) {
  visit("device", c.device);
  visit("device_uuid", c.device_uuid);
  visit("compute_capability", c.compute_capability);
  visit("cuda_runtime", c.cuda_runtime);
  visit("cuda_driver", c.cuda_driver);
  visit("nvrtc", c.nvrtc);
  visit("cublaslt", c.cublaslt);
  visit("fp8kit_version", c.fp8kit_version);
  visit("git_revision", c.git_revision);
  visit("timing_mode", c.timing_mode);
  visit("command_line", c.command_line);
  visit("date_utc", c.date_utc);
}

std::string metric_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);  // shortest representation that reads back to the same double
}

[[noreturn]] void bad_field(std::string_view field, std::string_view rule) {
  throw_invalid_argument(fmt::format("result record: field '{}' {}", field, rule));
}

const json& require(const json& obj, const std::string& key, std::string_view field) {
  const auto it = obj.find(key);
  if (it == obj.end()) bad_field(field, "is missing");
  return *it;
}

std::string require_string(const json& obj, const std::string& key, std::string_view field) {
  const json& v = require(obj, key, field);
  if (!v.is_string()) bad_field(field, fmt::format("must be a string, not {}", v.type_name()));
  return v.get<std::string>();
}

const json& require_object(const json& obj, const std::string& key, std::string_view field) {
  const json& v = require(obj, key, field);
  if (!v.is_object()) bad_field(field, fmt::format("must be an object, not {}", v.type_name()));
  return v;
}

double metric_from_json(const json& v, std::string_view field) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return HUGE_VAL;
    if (s == "-inf") return -HUGE_VAL;
  }
  bad_field(field, fmt::format("must be a number or \"nan\", \"inf\", \"-inf\", not {}", v.dump()));
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

bool is_shell_safe(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

}  // namespace

json to_json(const ResultRecord& record) {
  json j;
  j["version"] = kResultFormatVersion;
  j["suite"] = record.suite;
  j["name"] = record.name;
  j["status"] = record.status;
  j["params"] = json::object();
  for (const auto& [key, value] : record.params) j["params"][key] = value;
  j["metrics"] = json::object();
  for (const auto& [key, value] : record.metrics) {
    if (std::isfinite(value)) {
      j["metrics"][key] = value;
    } else {
      j["metrics"][key] = metric_text(value);
    }
  }
  json& ctx = j["context"] = json::object();
  for_each_context_field(record.context, [&](const char* key, const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::optional<std::string>>) {
      if (value) ctx[key] = *value;
    } else {
      ctx[key] = value;
    }
  });
  return j;
}

ResultRecord record_from_json(const json& j) {
  if (!j.is_object()) throw_invalid_argument(fmt::format("result record: expected a JSON object, not {}", j.type_name()));
  const json& version = require(j, "version", "version");
  if (!version.is_number_integer() || version.get<long long>() != kResultFormatVersion) {
    bad_field("version", fmt::format("is {}; this build reads version {}", version.dump(), kResultFormatVersion));
  }
  ResultRecord r;
  r.suite = require_string(j, "suite", "suite");
  if (r.suite.empty()) bad_field("suite", "is empty");
  r.name = require_string(j, "name", "name");
  if (r.name.empty()) bad_field("name", "is empty");
  r.status = require_string(j, "status", "status");
  if (r.status != "ok" && !r.status.starts_with("FAILED")) {
    bad_field("status", fmt::format("is \"{}\"; it must be \"ok\" or start with \"FAILED\"", r.status));
  }
  for (const auto& [key, value] : require_object(j, "params", "params").items()) {
    if (!value.is_string()) bad_field("params." + key, fmt::format("must be a string, not {}", value.type_name()));
    r.params.emplace(key, value.get<std::string>());
  }
  for (const auto& [key, value] : require_object(j, "metrics", "metrics").items()) {
    r.metrics.emplace(key, metric_from_json(value, "metrics." + key));
  }
  const json& ctx = require_object(j, "context", "context");
  for_each_context_field(r.context, [&](const char* key, auto& value) {
    const std::string field = std::string("context.") + key;
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::optional<std::string>>) {
      const auto it = ctx.find(key);
      if (it == ctx.end() || it->is_null()) return;
      if (!it->is_string()) bad_field(field, fmt::format("must be a string, not {}", it->type_name()));
      value = it->template get<std::string>();
    } else {
      value = require_string(ctx, key, field);
    }
  });
  return r;
}

std::string to_jsonl_line(const ResultRecord& record) {
  // dump() escapes control characters, so the record stays on one line.
  return to_json(record).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_jsonl(const fs::path& path, const ResultRecord& record) { append_line(path, to_jsonl_line(record)); }

std::vector<ResultRecord> read_jsonl(const fs::path& path) {
  const std::string text = read_file(path);
  std::vector<ResultRecord> records;
  std::size_t start = 0;
  for (std::size_t line_no = 1; start < text.size(); ++line_no) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line =
        std::string_view(text).substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = (end == std::string::npos) ? text.size() : end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = fmt::format("{}:{}", path.string(), line_no);
    // Every writer ends a record with '\n': a last line without one is a write that was cut off.
    if (end == std::string::npos) throw_invalid_argument(where + ": truncated record (no newline at end of file)");
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw_invalid_argument(fmt::format("{}: not valid JSON: {}", where, e.what()));
    }
    try {
      records.push_back(record_from_json(j));
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: {}", where, e.what()));
    }
  }
  return records;
}

std::string to_csv(std::span<const ResultRecord> records) {
  std::set<std::string> param_keys, metric_keys;
  for (const ResultRecord& r : records) {
    for (const auto& kv : r.params) param_keys.insert(kv.first);
    for (const auto& kv : r.metrics) metric_keys.insert(kv.first);
  }
  static const RunContext kNoContext;
  std::set<std::string> fixed = {"suite", "name", "status"};
  for_each_context_field(kNoContext, [&](const char* key, const auto&) { fixed.insert(key); });
  auto column_name = [&](const std::string& key, const std::set<std::string>& other, const char* group) {
    return (fixed.count(key) || other.count(key)) ? fmt::format("{}.{}", group, key) : key;
  };

  std::vector<std::string> header = {"suite", "name", "status"};
  for (const auto& k : param_keys) header.push_back(column_name(k, metric_keys, "params"));
  for (const auto& k : metric_keys) header.push_back(column_name(k, param_keys, "metrics"));
  for_each_context_field(kNoContext, [&](const char* key, const auto&) { header.emplace_back(key); });

  std::string out;
  auto emit_row = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += csv_field(cells[i]);
    }
    out += '\n';
  };
  emit_row(header);
  for (const ResultRecord& r : records) {
    std::vector<std::string> row = {r.suite, r.name, r.status};
    for (const auto& k : param_keys) {
      const auto it = r.params.find(k);
      row.push_back(it == r.params.end() ? std::string() : it->second);
    }
    for (const auto& k : metric_keys) {
      const auto it = r.metrics.find(k);
      row.push_back(it == r.metrics.end() ? std::string() : metric_text(it->second));
    }
    for_each_context_field(r.context, [&](const char*, const auto& value) {
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::optional<std::string>>) {
        row.push_back(value.value_or(""));
      } else {
        row.push_back(value);
      }
    });
    emit_row(row);
  }
  return out;
}

void write_csv(const fs::path& path, std::span<const ResultRecord> records) {
  write_file_atomic(path, to_csv(records));
}

std::string iso8601_utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  if (::gmtime_r(&now, &utc) == nullptr) throw_environment("iso8601_utc_now: the clock is out of range");
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buf.data(), n);
}

std::string shell_quote(std::string_view arg) {
  bool safe = !arg.empty();
  for (char c : arg) safe = safe && is_shell_safe(c);
  if (safe) return std::string(arg);
  // Inside single quotes nothing is special except the quote itself: close, escape, reopen.
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string shell_quote_command(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i] ? std::string_view(argv[i]) : std::string_view();
    std::string quoted = shell_quote(arg);
    // A leading unquoted NAME=value word would be read as a variable assignment, not the command.
    if (i == 0 && quoted == arg && arg.find('=') != std::string_view::npos) quoted = "'" + quoted + "'";
    if (i > 0) out += ' ';
    out += quoted;
  }
  return out;
}

}  // namespace fp8kit
