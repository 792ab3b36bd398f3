#include "core/gemm_config_json.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>

namespace fp8kit {
namespace {

using nlohmann::json;

struct IntField {
  std::string_view name;
  int GemmConfig::*member;
  bool required = true;  // an optional field keeps the base config's value (files older than the field)
};
constexpr std::array<IntField, 10> kTileFields{{
    {"block_m", &GemmConfig::block_m},
    {"block_n", &GemmConfig::block_n},
    {"block_k", &GemmConfig::block_k},
    {"stages", &GemmConfig::stages},
    {"consumer_warpgroups", &GemmConfig::consumer_warpgroups},
    {"cluster_m", &GemmConfig::cluster_m},
    {"cluster_n", &GemmConfig::cluster_n, false},
    {"group_size_m", &GemmConfig::group_size_m},
    {"split_k", &GemmConfig::split_k, false},
    {"split_cluster", &GemmConfig::split_cluster, false},
}};
constexpr std::array<std::string_view, 3> kModeFields{"mode_a", "mode_b", "out"};

std::string text_field(const json& j, std::string_view key, std::string_view where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw_invalid_argument(fmt::format("{}: \"{}\" must be a string", where, key));
  return it->get<std::string>();
}

}  // namespace

json tile_fields_to_json(const GemmConfig& config) {
  json j = json::object();
  for (const IntField& f : kTileFields) j[std::string(f.name)] = config.*f.member;
  return j;
}

GemmConfig tile_fields_from_json(const json& j, const GemmConfig& base, std::string_view where,
                                 std::initializer_list<std::string_view> also_allowed) {
  if (!j.is_object()) throw_invalid_argument(fmt::format("{}: a config must be a JSON object", where));
  GemmConfig c = base;
  for (const IntField& f : kTileFields) {
    const auto it = j.find(f.name);
    if (it == j.end() && !f.required) continue;
    if (it == j.end() || !it->is_number_integer()) {
      throw_invalid_argument(fmt::format("{}: \"{}\" must be an integer", where, f.name));
    }
    const auto v = it->get<std::int64_t>();
    if (v < 0 || v > 1 << 20) throw_invalid_argument(fmt::format("{}: \"{}\" = {} is out of range", where, f.name, v));
    c.*f.member = static_cast<int>(v);
  }
  for (const auto& [key, value] : j.items()) {
    const auto known = [&](std::string_view k) { return k == key; };
    if (std::any_of(kTileFields.begin(), kTileFields.end(), [&](const IntField& f) { return known(f.name); })) continue;
    if (std::any_of(also_allowed.begin(), also_allowed.end(), known)) continue;
    throw_invalid_argument(fmt::format("{}: unknown config field \"{}\"", where, key));
  }
  return c;
}

json config_to_json(const GemmConfig& config) {
  json j = tile_fields_to_json(config);
  j["mode_a"] = std::string(scale_mode_name(config.mode_a));
  j["mode_b"] = std::string(scale_mode_name(config.mode_b));
  j["out"] = std::string(tuned_out_name(config.out));
  return j;
}

GemmConfig config_from_json(const json& j, std::string_view where) {
  GemmConfig c = tile_fields_from_json(j, GemmConfig{}, where, {kModeFields[0], kModeFields[1], kModeFields[2]});
  c.mode_a = parse_scale_mode_a(text_field(j, "mode_a", where));
  c.mode_b = parse_scale_mode_b(text_field(j, "mode_b", where));
  c.out = parse_dtype(text_field(j, "out", where));
  return c;
}

ScaleModeA parse_scale_mode_a(std::string_view name) {
  for (ScaleModeA m : {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}) {
    if (scale_mode_name(m) == name) return m;
  }
  throw_invalid_argument(fmt::format("unknown A scale mode '{}' (tensor, token, group128)", name));
}

ScaleModeB parse_scale_mode_b(std::string_view name) {
  for (ScaleModeB m : {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128}) {
    if (scale_mode_name(m) == name) return m;
  }
  throw_invalid_argument(fmt::format("unknown B scale mode '{}' (tensor, channel, block128)", name));
}

std::string_view tuned_out_name(DType out) {
  switch (out) {
    case DType::kBFloat16: return "bfloat16";
    case DType::kFloat16: return "float16";
    case DType::kFloat32: return "float32";
    default: break;
  }
  throw_invalid_argument(fmt::format("out dtype {} is not a GEMM output (bfloat16, float16, float32)", dtype_name(out)));
}

}  // namespace fp8kit
