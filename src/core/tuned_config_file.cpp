#include "core/tuned_config_file.hpp"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "core/gemm_config_json.hpp"

namespace fp8kit {

std::string device_file_tag(std::string_view device_name) {
  std::string tag(device_name);
  for (char& c : tag) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
    if (!keep) c = '_';
  }
  return tag.empty() ? std::string("unknown") : tag;
}

std::string tuned_scales_tag(TunedScales scales) {
  if (scales == TunedScales{}) return "block128x128";
  return fmt::format("a-{}_b-{}", scale_mode_name(scales.a), scale_mode_name(scales.b));
}

std::string tuned_config_file_name(std::int64_t n, std::int64_t k, DType out, std::string_view device_name,
                                   TunedScales scales) {
  return fmt::format("{}{}_N={},K={},out={},device={}.json", kTunedFilePrefix, tuned_scales_tag(scales), n, k,
                     tuned_out_name(out), device_file_tag(device_name));
}

namespace {

using nlohmann::json;

const json& member(const json& j, std::string_view key, std::string_view where) {
  const auto it = j.find(key);
  if (it == j.end()) throw_invalid_argument(fmt::format("{}: missing \"{}\"", where, key));
  return *it;
}

template <typename T>
T typed(const json& j, std::string_view key, std::string_view where) {
  const json& v = member(j, key, where);
  const bool ok = [&] {
    if constexpr (std::is_same_v<T, std::string>) return v.is_string();
    else if constexpr (std::is_integral_v<T>) return v.is_number_integer();
    else return v.is_number();
  }();
  if (!ok) throw_invalid_argument(fmt::format("{}: \"{}\" has the wrong type", where, key));
  return v.get<T>();
}

std::int64_t parse_batch_key(std::string_view key, std::string_view where) {
  std::int64_t m = 0;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), m);
  if (key.empty() || ec != std::errc{} || end != key.data() + key.size() || m < 1 || key.front() == '0') {
    throw_invalid_argument(fmt::format("{}: key \"{}\" is neither a batch size nor \"metadata\"", where, key));
  }
  return m;
}

}  // namespace

int TunedConfigFile::candidates_tried() const {
  int total = 0;
  for (const auto& [m, b] : batches) total += b.candidates_tried;
  return total;
}

int TunedConfigFile::candidates_failed() const {
  int total = 0;
  for (const auto& [m, b] : batches) total += b.candidates_failed;
  return total;
}

std::string tuned_file_name(const TunedConfigFile& f) {
  return tuned_config_file_name(f.n, f.k, f.out, f.device, {f.mode_a, f.mode_b});
}

std::string to_json_text(const TunedConfigFile& f) {
  // ordered_json: batch sizes ascending, fields in GemmConfig's order, metadata last.
  using ordered = nlohmann::ordered_json;
  ordered root = ordered::object();
  ordered per_batch = ordered::object();
  for (const auto& [m, b] : f.batches) {
    const GemmConfig& c = b.config;
    root[std::to_string(m)] = {{"block_m", c.block_m},
                               {"block_n", c.block_n},
                               {"block_k", c.block_k},
                               {"stages", c.stages},
                               {"consumer_warpgroups", c.consumer_warpgroups},
                               {"cluster_m", c.cluster_m},
                               {"cluster_n", c.cluster_n},
                               {"group_size_m", c.group_size_m},
                               {"kernel_name", kernel_name(c)}};
    if (c.split_k > 1) root[std::to_string(m)]["split_k"] = c.split_k;
    if (c.split_cluster != 0) root[std::to_string(m)]["split_cluster"] = c.split_cluster;
    per_batch[std::to_string(m)] = {{"best_tflops", b.best_tflops},
                                    {"default_tflops", b.default_tflops},
                                    {"speedup", b.default_tflops > 0 ? b.best_tflops / b.default_tflops : 0.0},
                                    {"default_kernel_name", b.default_kernel_name},
                                    {"candidates_tried", b.candidates_tried},
                                    {"candidates_failed", b.candidates_failed}};
  }
  root["metadata"] = {{"format", kTunedFileFormat},
                      {"format_version", kTunedFileFormatVersion},
                      {"n", f.n},
                      {"k", f.k},
                      {"out", tuned_out_name(f.out)},
                      {"mode_a", scale_mode_name(f.mode_a)},
                      {"mode_b", scale_mode_name(f.mode_b)},
                      {"device", f.device},
                      {"versions", f.versions},
                      {"date", f.date_utc},
                      {"time_spent_s", f.time_spent_s},
                      {"candidates_tried", f.candidates_tried()},
                      {"candidates_failed", f.candidates_failed()},
                      {"per_batch_size", per_batch}};
  return root.dump(2, ' ', false, ordered::error_handler_t::replace) + "\n";
}

TunedConfigFile parse_tuned_config_file(std::string_view text, std::string_view where) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw_invalid_argument(fmt::format("{}: not JSON (truncated or corrupt?): {}", where, e.what()));
  }
  if (!root.is_object()) throw_invalid_argument(fmt::format("{}: not a JSON object", where));
  const std::string meta_where = fmt::format("{}: metadata", where);
  const json& meta = member(root, "metadata", where);
  if (!meta.is_object()) throw_invalid_argument(fmt::format("{} is not an object", meta_where));
  if (typed<std::string>(meta, "format", meta_where) != kTunedFileFormat) {
    throw_invalid_argument(fmt::format("{}: \"format\" is not \"{}\"", meta_where, kTunedFileFormat));
  }
  if (const int v = typed<int>(meta, "format_version", meta_where); v != kTunedFileFormatVersion) {
    throw_invalid_argument(fmt::format("{}: format_version {} (this fp8kit reads {})", meta_where, v, kTunedFileFormatVersion));
  }
  TunedConfigFile f;
  f.n = typed<std::int64_t>(meta, "n", meta_where);
  f.k = typed<std::int64_t>(meta, "k", meta_where);
  const auto named = [&](auto parse) {  // the parsers' messages lack the file's name
    try {
      return parse();
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: {}", meta_where, e.what()));
    }
  };
  f.out = named([&] { return parse_dtype(typed<std::string>(meta, "out", meta_where)); });
  named([&] { return tuned_out_name(f.out); });
  f.mode_a = named([&] { return parse_scale_mode_a(typed<std::string>(meta, "mode_a", meta_where)); });
  f.mode_b = named([&] { return parse_scale_mode_b(typed<std::string>(meta, "mode_b", meta_where)); });
  f.device = typed<std::string>(meta, "device", meta_where);
  f.date_utc = typed<std::string>(meta, "date", meta_where);
  f.time_spent_s = typed<double>(meta, "time_spent_s", meta_where);
  const json& versions = member(meta, "versions", meta_where);
  if (!versions.is_object()) throw_invalid_argument(fmt::format("{}: \"versions\" is not an object", meta_where));
  for (const auto& [key, value] : versions.items()) {
    if (!value.is_string()) throw_invalid_argument(fmt::format("{}: versions.{} is not a string", meta_where, key));
    f.versions[key] = value.get<std::string>();
  }
  const json& per_batch = member(meta, "per_batch_size", meta_where);
  if (!per_batch.is_object()) throw_invalid_argument(fmt::format("{}: \"per_batch_size\" is not an object", meta_where));

  GemmConfig base;
  base.mode_a = f.mode_a;
  base.mode_b = f.mode_b;
  base.out = f.out;
  for (const auto& [key, value] : root.items()) {
    if (key == "metadata") continue;
    const std::int64_t m = parse_batch_key(key, where);
    const std::string entry_where = fmt::format("{}: batch size {}", where, key);
    TunedBatch b;
    b.config = tile_fields_from_json(value, base, entry_where, {"kernel_name"});
    if (const auto errors = gemm_config_errors(b.config); !errors.empty()) {
      throw_invalid_argument(fmt::format("{}: invalid config: {}", entry_where, errors.front()));
    }
    if (typed<std::string>(value, "kernel_name", entry_where) != kernel_name(b.config)) {
      throw_invalid_argument(fmt::format("{}: kernel_name \"{}\" does not match the config ({})", entry_where,
                                         value["kernel_name"].get<std::string>(), kernel_name(b.config)));
    }
    const std::string stats_where = fmt::format("{}: metadata.per_batch_size.{}", where, key);
    const auto stats = per_batch.find(key);
    if (stats == per_batch.end() || !stats->is_object()) throw_invalid_argument(fmt::format("{}: missing", stats_where));
    b.best_tflops = typed<double>(*stats, "best_tflops", stats_where);
    b.default_tflops = typed<double>(*stats, "default_tflops", stats_where);
    b.default_kernel_name = typed<std::string>(*stats, "default_kernel_name", stats_where);
    b.candidates_tried = typed<int>(*stats, "candidates_tried", stats_where);
    b.candidates_failed = typed<int>(*stats, "candidates_failed", stats_where);
    f.batches.emplace(m, std::move(b));
  }
  if (f.batches.empty()) throw_invalid_argument(fmt::format("{}: no batch sizes", where));
  if (per_batch.size() != f.batches.size()) {
    throw_invalid_argument(fmt::format("{}: metadata.per_batch_size lists {} batch sizes, the file {}", where,
                                       per_batch.size(), f.batches.size()));
  }
  return f;
}

std::filesystem::path write_tuned_config_file(const std::filesystem::path& dir, const TunedConfigFile& file) {
  const std::filesystem::path path = dir / tuned_file_name(file);
  write_file_atomic(path, to_json_text(file));
  return path;
}

TunedConfigFile read_tuned_config_file(const std::filesystem::path& path) {
  return parse_tuned_config_file(read_file(path), path.string());
}

}  // namespace fp8kit
