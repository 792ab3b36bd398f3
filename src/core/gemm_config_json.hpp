// GemmConfig <-> JSON for the tuner's files and its worker protocol. Fields are named as in
// GemmConfig; readers refuse missing, unknown or mistyped fields with a message naming the field.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/gemm_config.hpp"

namespace fp8kit {

// The tunable fields only (block_m .. group_size_m): what a tuned-config file stores per M, where
// the scale modes and out dtype are the file's.
nlohmann::json tile_fields_to_json(const GemmConfig& config);
// Reads the tunable fields into a copy of `base` (which supplies modes and out dtype). Keys other
// than the tunable fields and those in `also_allowed` are refused. `where` prefixes messages.
GemmConfig tile_fields_from_json(const nlohmann::json& j, const GemmConfig& base, std::string_view where,
                                 std::initializer_list<std::string_view> also_allowed = {});

// Every field, modes and out dtype included ("mode_a": "group128", "out": "bfloat16").
nlohmann::json config_to_json(const GemmConfig& config);
GemmConfig config_from_json(const nlohmann::json& j, std::string_view where);

ScaleModeA parse_scale_mode_a(std::string_view name);  // "tensor", "token", "group128"
ScaleModeB parse_scale_mode_b(std::string_view name);  // "tensor", "channel", "block128"

// The out dtype as tuned files spell it: "bfloat16", "float16", "float32"; throws for others.
std::string_view tuned_out_name(DType out);

}  // namespace fp8kit
