#include "core/model_shapes.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error(ErrorKind::kInvalidArgument, message);
}

std::string str(std::int64_t v) { return std::to_string(v); }

enum class Split : std::uint8_t { kNone, kN, kK };

// One weight (N, K) before TP and the dimension TP divides.
struct SplitRule {
  const char* layer;
  std::int64_t n, k;
  Split split;
};

using ModelSpec = std::variant<DenseModelDims, std::vector<SplitRule>>;

struct KnownModel {
  const char* name;
  ModelSpec spec;
};

// Dimensions from each model's public config.json: hidden, intermediate, heads, kv heads,
// head_dim. table_rules() turns them into exactly the entries of vLLM's weight_shapes.py.
const std::vector<KnownModel>& table() {
  static const std::vector<KnownModel> kTable = {
      {"mistralai/Mistral-7B-v0.1", DenseModelDims{4096, 14336, 32, 8, 128}},
      {"meta-llama/Llama-2-7b-hf", DenseModelDims{4096, 11008, 32, 32, 128}},
      {"meta-llama/Llama-2-13b-hf", DenseModelDims{5120, 13824, 40, 40, 128}},
      {"meta-llama/Llama-2-70b-hf", DenseModelDims{8192, 28672, 64, 8, 128}},
      {"meta-llama/Llama-3-8b", DenseModelDims{4096, 14336, 32, 8, 128}},
      {"meta-llama/Llama-3.1-8B-Instruct", DenseModelDims{4096, 14336, 32, 8, 128}},
      {"meta-llama/Llama-3.1-405b-hf", DenseModelDims{16384, 53248, 128, 8, 128}},
      {"meta-llama/Llama-3.3-70B-Instruct", DenseModelDims{8192, 28672, 64, 8, 128}},
      {"mistralai/Mistral-Large-Instruct-2407", DenseModelDims{12288, 28672, 96, 8, 128}},
      {"Qwen/Qwen2.5-7B-Instruct", DenseModelDims{3584, 18944, 28, 4, 128}},
      {"Qwen/Qwen2.5-32B-Instruct", DenseModelDims{5120, 27648, 40, 8, 128}},
      {"Qwen/Qwen2.5-72B-Instruct", DenseModelDims{8192, 29568, 64, 8, 128}},
      // MLA attention, dense first layer and shared experts: vLLM's entries as they stand
      // (they list kv_b_proj with K = hidden and split kv_a_proj_with_mqa on K).
      {"deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",
       std::vector<SplitRule>{
           {"q_proj", 3072, 2048, Split::kN},
           {"kv_b_proj", 4096, 2048, Split::kN},
           {"o_proj", 2048, 2048, Split::kK},
           {"kv_a_proj_with_mqa", 576, 2048, Split::kK},
           {"dense_gate_up_proj", 21888, 2048, Split::kN},
           {"dense_down_proj", 2048, 10944, Split::kK},
           {"shared_experts_gate_up_proj", 2816, 2048, Split::kN},
           {"shared_experts_down_proj", 2048, 1408, Split::kK},
       }},
      {"CohereLabs/c4ai-command-a-03-2025", DenseModelDims{12288, 36864, 96, 8, 128}},
      // The block-FP8 GEMM list of DeepSeek-V3, (N, K), as the tuning issue gives it.
      {"deepseek-ai/DeepSeek-V3",
       std::vector<SplitRule>{
           {"never_split_1", 576, 7168, Split::kNone},
           {"never_split_2", 24576, 7168, Split::kNone},
           {"never_split_3", 32768, 512, Split::kNone},
           {"never_split_4", 7168, 16384, Split::kNone},
           {"never_split_5", 7168, 18432, Split::kNone},
           {"never_split_6", 2112, 7168, Split::kNone},
           {"n_split_1", 36864, 7168, Split::kN},
           {"n_split_2", 24576, 7168, Split::kN},
           {"n_split_3", 32768, 512, Split::kN},
           {"n_split_4", 24576, 1536, Split::kN},
           {"n_split_5", 12288, 7168, Split::kN},
           {"n_split_6", 4096, 7168, Split::kN},
           {"k_split_1", 7168, 18432, Split::kK},
           {"k_split_2", 7168, 16384, Split::kK},
           {"k_split_3", 7168, 2048, Split::kK},
       }},
  };
  return kTable;
}

void require_divisible(std::string_view model, const std::string& layer, const char* what,
                       std::int64_t value, std::int64_t tp) {
  if (value % tp != 0) {
    fail(std::string(model) + ": layer " + layer + ": " + what + " = " + str(value) +
         " is split by tensor parallelism and must be divisible by tp = " + str(tp));
  }
}

std::vector<LinearShape> split_rules(const std::vector<SplitRule>& rules, int tp,
                                     std::string_view model) {
  std::vector<LinearShape> shapes;
  for (const SplitRule& r : rules) {
    LinearShape s{r.layer, r.n, r.k};
    if (r.split == Split::kN) {
      require_divisible(model, s.layer, "N", r.n, tp);
      s.n /= tp;
    } else if (r.split == Split::kK) {
      require_divisible(model, s.layer, "K", r.k, tp);
      s.k /= tp;
    }
    shapes.push_back(std::move(s));
  }
  return shapes;
}

std::vector<LinearShape> without_duplicates(const std::vector<LinearShape>& shapes) {
  std::vector<LinearShape> out;
  for (const LinearShape& s : shapes) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const LinearShape& o) {
      return o.n == s.n && o.k == s.k;
    });
    if (!seen) out.push_back(s);
  }
  return out;
}

// vLLM's table form of a dense model: each weight split on one dimension by plain division.
std::vector<SplitRule> table_rules(const DenseModelDims& d) {
  return {
      {"qkv_proj", (d.heads + 2 * d.kv_heads) * d.head_dim, d.hidden, Split::kN},
      {"o_proj", d.hidden, d.heads * d.head_dim, Split::kK},
      {"gate_up_proj", 2 * d.intermediate, d.hidden, Split::kN},
      {"down_proj", d.hidden, d.intermediate, Split::kK},
  };
}

const KnownModel* find_known(std::string_view name) {
  for (const KnownModel& m : table()) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

std::string known_list() {
  std::string list;
  for (const KnownModel& m : table()) list += std::string(list.empty() ? "" : ", ") + m.name;
  return list;
}

// --- config.json ----------------------------------------------------------------------------

constexpr std::array<std::string_view, 6> kDenseModelTypes = {"llama",  "mistral", "qwen2",
                                                              "qwen3",  "cohere",  "cohere2"};

std::filesystem::path config_file(const std::filesystem::path& p) {
  return std::filesystem::is_directory(p) ? p / "config.json" : p;
}

// A positive integer under `key`; absent or null gives `fallback` when one is allowed (> 0).
std::int64_t positive_int(const nlohmann::json& config, const std::string& file, const char* key,
                          std::int64_t fallback = 0) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    if (fallback > 0) return fallback;
    fail(file + ": missing key \"" + key + "\"");
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    fail(file + ": key \"" + key + "\" must be a positive integer, got " + it->dump());
  }
  return it->get<std::int64_t>();
}

}  // namespace

LinearShape parse_shape_arg(std::string_view text) {
  const auto comma = text.find(',');
  const auto number = [&](std::string_view part) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || end != part.data() + part.size() || v < 1) {
      throw_invalid_argument(fmt::format("--shapes: '{}' is not N,K with positive integers", text));
    }
    return v;
  };
  if (comma == std::string_view::npos) throw_invalid_argument(fmt::format("--shapes: '{}' is not N,K", text));
  return {"", number(text.substr(0, comma)), number(text.substr(comma + 1))};
}

std::vector<std::string> known_models() {
  std::vector<std::string> names;
  for (const KnownModel& m : table()) names.emplace_back(m.name);
  return names;
}

std::vector<LinearShape> dense_model_shapes(const DenseModelDims& d, int tp,
                                            std::string_view model) {
  if (tp < 1) fail(std::string(model) + ": tp must be >= 1, got " + std::to_string(tp));
  if (d.hidden <= 0 || d.intermediate <= 0 || d.heads <= 0 || d.kv_heads <= 0 ||
      d.head_dim <= 0) {
    fail(std::string(model) + ": model dimensions must be positive");
  }
  if (d.heads % d.kv_heads != 0) {
    fail(std::string(model) + ": attention heads (" + str(d.heads) +
         ") must be a multiple of KV heads (" + str(d.kv_heads) + ")");
  }
  require_divisible(model, "qkv_proj", "attention heads", d.heads, tp);
  // QKVParallelLinear: below kv_heads ranks split the KV heads; from there on each rank holds
  // one KV head, replicated tp / kv_heads times.
  std::int64_t kv_per_rank = 1;
  if (tp < d.kv_heads) {
    require_divisible(model, "qkv_proj", "KV heads", d.kv_heads, tp);
    kv_per_rank = d.kv_heads / tp;
  } else if (tp % d.kv_heads != 0) {
    fail(std::string(model) + ": layer qkv_proj: tp = " + std::to_string(tp) +
         " exceeds the KV heads (" + str(d.kv_heads) +
         ") and must be a multiple of them to replicate them");
  }
  require_divisible(model, "gate_up_proj", "intermediate size", d.intermediate, tp);
  const std::int64_t heads_per_rank = d.heads / tp;
  const std::int64_t inter_per_rank = d.intermediate / tp;
  return without_duplicates({
      {"qkv_proj", (heads_per_rank + 2 * kv_per_rank) * d.head_dim, d.hidden},
      {"o_proj", d.hidden, heads_per_rank * d.head_dim},
      {"gate_up_proj", 2 * inter_per_rank, d.hidden},
      {"down_proj", d.hidden, inter_per_rank},
  });
}

DenseModelDims read_dense_config(const std::filesystem::path& config_json) {
  const std::string file = config_json.string();
  if (!std::filesystem::is_regular_file(config_json)) {
    fail(file + ": no such config file");
  }
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_file(config_json));
  } catch (const nlohmann::json::parse_error& e) {
    fail(file + ": malformed JSON: " + e.what());
  }
  if (!config.is_object()) fail(file + ": expected a JSON object at the top level");

  const auto type = config.find("model_type");
  if (type == config.end()) fail(file + ": missing key \"model_type\"");
  if (!type->is_string()) fail(file + ": key \"model_type\" must be a string");
  const std::string model_type = type->get<std::string>();
  if (std::find(kDenseModelTypes.begin(), kDenseModelTypes.end(), model_type) ==
      kDenseModelTypes.end()) {
    std::string supported;
    for (std::string_view t : kDenseModelTypes) {
      supported += (supported.empty() ? "" : ", ") + std::string(t);
    }
    fail(file + ": model_type \"" + model_type + "\" is not supported (dense models only: " +
         supported + ")");
  }

  DenseModelDims d;
  d.hidden = positive_int(config, file, "hidden_size");
  d.intermediate = positive_int(config, file, "intermediate_size");
  d.heads = positive_int(config, file, "num_attention_heads");
  d.kv_heads = positive_int(config, file, "num_key_value_heads", d.heads);
  if (config.contains("head_dim") && !config["head_dim"].is_null()) {
    d.head_dim = positive_int(config, file, "head_dim");
  } else if (d.hidden % d.heads != 0) {
    fail(file + ": no \"head_dim\" and hidden_size (" + str(d.hidden) +
         ") is not divisible by num_attention_heads (" + str(d.heads) + ")");
  } else {
    d.head_dim = d.hidden / d.heads;
  }
  return d;
}

std::vector<LinearShape> model_shapes(std::string_view model_or_config_path, int tp) {
  const std::string name(model_or_config_path);
  if (tp < 1) fail(name + ": tp must be >= 1, got " + std::to_string(tp));
  if (const KnownModel* known = find_known(name)) {
    const auto* dims = std::get_if<DenseModelDims>(&known->spec);
    return without_duplicates(split_rules(
        dims ? table_rules(*dims) : std::get<std::vector<SplitRule>>(known->spec), tp, name));
  }
  const std::filesystem::path path(name);
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || path.extension() == ".json") {
    const std::filesystem::path file = config_file(path);
    return dense_model_shapes(read_dense_config(file), tp, file.string());
  }
  fail("unknown model \"" + name + "\"; known models: " + known_list() +
       "; or give a path to a HuggingFace config.json (or its directory)");
}

}  // namespace fp8kit
