// The tuner <-> worker protocol: one JSON object per line. The worker opens with a hello; then
// each request gets exactly one reply.
//   hello   {"op":"hello","device":"NVIDIA H100 80GB HBM3","sm_count":132,"versions":{...}}
//           or {"op":"hello","error":"no CUDA device","exit_code":3}
//   compile {"op":"compile","configs":[{...}, ...]}      -> {"op":"compiled","failed":{"<kernel_name>":"why"}}
//   measure {"op":"measure","n":..,"k":..,"m":..,"config":{...}}   (no "config": the default heuristic's)
//           -> {"op":"measured","ok":true,"config":{...},"us":12.5}
//           or {"op":"measured","ok":false,"config":{...}?,"error":"...","restart":true?}
//   quit    {"op":"quit"}  (the worker exits; so does it at end of input)
// "restart": the failure left the worker unusable (a fault poisons the CUDA context): the tuner
// replaces it before the next request.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/gemm_config.hpp"

namespace fp8kit::tune {

struct WorkerHello {
  std::string device;
  int sm_count = 0;
  std::map<std::string, std::string> versions;
  std::string error;       // non-empty: the worker cannot measure here
  int exit_code = 0;       // with error: the fp8kit exit code it maps to (3: environment)
};
nlohmann::json to_json(const WorkerHello& hello);
WorkerHello hello_from_json(const nlohmann::json& j);

struct MeasureRequest {
  GemmShape shape;
  GemmConfig base;                    // modes and out dtype (and the config, when not default)
  bool use_default = false;           // measure the default heuristic's config instead of `base`
  bool cold = false;                  // time with the inputs rotated past twice the L2 (weights from HBM)
};
nlohmann::json to_json(const MeasureRequest& request);
MeasureRequest measure_request_from_json(const nlohmann::json& j);

struct MeasureReply {
  bool ok = false;
  std::optional<GemmConfig> config;   // what was measured (always set when ok)
  double us = 0;
  std::string error;
  bool restart = false;
};
nlohmann::json to_json(const MeasureReply& reply);
MeasureReply measure_reply_from_json(const nlohmann::json& j);

nlohmann::json compile_request(const std::vector<GemmConfig>& configs);
std::vector<GemmConfig> compile_request_configs(const nlohmann::json& j);
// The kernels whose compile failed, by name, with why; "*": the whole batch failed (an exception).
nlohmann::json compile_reply(const std::map<std::string, std::string>& failed);
std::map<std::string, std::string> compile_reply_failures(const nlohmann::json& j);

}  // namespace fp8kit::tune
