#include "tune/worker_protocol.hpp"

#include <fmt/format.h>

#include "core/gemm_config_json.hpp"

namespace fp8kit::tune {
namespace {

using nlohmann::json;

void require(bool ok, std::string_view what) {
  if (!ok) throw_invalid_argument(fmt::format("tune worker protocol: {}", what));
}

}  // namespace

json to_json(const WorkerHello& h) {
  if (!h.error.empty()) return {{"op", "hello"}, {"error", h.error}, {"exit_code", h.exit_code}};
  return {{"op", "hello"}, {"device", h.device}, {"sm_count", h.sm_count}, {"versions", h.versions}};
}

WorkerHello hello_from_json(const json& j) {
  require(j.is_object() && j.value("op", "") == "hello", "expected a hello");
  WorkerHello h;
  if (j.contains("error")) {
    require(j["error"].is_string() && j.value("exit_code", 0) != 0, "bad hello error");
    h.error = j["error"].get<std::string>();
    h.exit_code = j["exit_code"].get<int>();
    return h;
  }
  require(j.contains("device") && j["device"].is_string(), "hello without a device");
  require(j.contains("sm_count") && j["sm_count"].is_number_integer(), "hello without sm_count");
  h.device = j["device"].get<std::string>();
  h.sm_count = j["sm_count"].get<int>();
  if (j.contains("versions")) h.versions = j["versions"].get<std::map<std::string, std::string>>();
  return h;
}

json to_json(const MeasureRequest& r) {
  json j = {{"op", "measure"}, {"n", r.shape.n}, {"k", r.shape.k}, {"m", r.shape.m}};
  if (r.use_default) {
    GemmConfig modes;  // only the modes and out dtype matter
    modes.mode_a = r.base.mode_a;
    modes.mode_b = r.base.mode_b;
    modes.out = r.base.out;
    j["default_for"] = config_to_json(modes);
  } else {
    j["config"] = config_to_json(r.base);
  }
  if (r.cold) j["cold"] = true;
  return j;
}

MeasureRequest measure_request_from_json(const json& j) {
  require(j.is_object() && j.value("op", "") == "measure", "expected a measure request");
  for (const char* key : {"n", "k", "m"}) require(j.contains(key) && j[key].is_number_integer(), "measure needs n, k, m");
  MeasureRequest r;
  r.shape = {j["m"].get<std::int64_t>(), j["n"].get<std::int64_t>(), j["k"].get<std::int64_t>()};
  if (j.contains("config")) {
    r.base = config_from_json(j["config"], "measure.config");
  } else {
    require(j.contains("default_for"), "measure needs config or default_for");
    r.base = config_from_json(j["default_for"], "measure.default_for");
    r.use_default = true;
  }
  r.cold = j.value("cold", false);
  return r;
}

json to_json(const MeasureReply& r) {
  json j = {{"op", "measured"}, {"ok", r.ok}};
  if (r.config) j["config"] = config_to_json(*r.config);
  if (r.ok) j["us"] = r.us;
  else j["error"] = r.error;
  if (r.restart) j["restart"] = true;
  return j;
}

MeasureReply measure_reply_from_json(const json& j) {
  require(j.is_object() && j.value("op", "") == "measured" && j.contains("ok") && j["ok"].is_boolean(),
          "expected a measured reply");
  MeasureReply r;
  r.ok = j["ok"].get<bool>();
  if (j.contains("config")) r.config = config_from_json(j["config"], "measured.config");
  if (r.ok) {
    require(r.config.has_value() && j.contains("us") && j["us"].is_number(), "a measured reply needs config and us");
    r.us = j["us"].get<double>();
  } else {
    r.error = j.value("error", "");
  }
  r.restart = j.value("restart", false);
  return r;
}

json compile_request(const std::vector<GemmConfig>& configs) {
  json list = json::array();
  for (const GemmConfig& c : configs) list.push_back(config_to_json(c));
  return {{"op", "compile"}, {"configs", list}};
}

std::vector<GemmConfig> compile_request_configs(const json& j) {
  require(j.is_object() && j.value("op", "") == "compile" && j.contains("configs") && j["configs"].is_array(),
          "expected a compile request");
  std::vector<GemmConfig> configs;
  for (const json& c : j["configs"]) configs.push_back(config_from_json(c, "compile.configs"));
  return configs;
}

json compile_reply(const std::map<std::string, std::string>& failed) {
  json f = json::object();
  for (const auto& [name, why] : failed) f[name] = why;
  return {{"op", "compiled"}, {"failed", f}};
}

std::map<std::string, std::string> compile_reply_failures(const json& j) {
  std::map<std::string, std::string> failed;
  if (j.is_object() && j.contains("failed") && j["failed"].is_object()) {
    for (const auto& [name, why] : j["failed"].items()) {
      if (why.is_string()) failed[name] = why.get<std::string>();
    }
  }
  return failed;
}

}  // namespace fp8kit::tune
