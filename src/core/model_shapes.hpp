// The (N, K) of every linear layer of a model at a tensor-parallel size: the GEMM shapes that
// `fp8kit shapes`, `bench gemm` and `tune` run. Built-in models follow the TP split rules of vLLM's
// benchmarks/kernels/weight_shapes.py; any Llama/Mistral/Qwen-style dense model can also be
// described by its HuggingFace config.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fp8kit {

struct LinearShape {
  std::string layer;  // "qkv_proj", "o_proj", "gate_up_proj", "down_proj", ...
  std::int64_t n = 0;  // output features of this rank's weight (N, K)
  std::int64_t k = 0;  // input features
  bool operator==(const LinearShape&) const = default;
};

// `model_or_config_path`: a name of known_models(), a config.json, or a directory holding one.
// Shapes come in layer order; a shape equal to an earlier one is dropped (first seen wins).
// Built-in models split as vLLM's table does, one dimension divided by tp, so that results compare
// with vLLM's benchmarks; a config.json splits as the serving layers do (dense_model_shapes). The
// two differ only where serving would replicate KV heads or refuse the tp (heads % tp != 0).
// Throws fp8kit::Error(kInvalidArgument) for an unknown model (listing the known ones), tp < 1, a
// dimension TP cannot split, or a bad config.json (naming the file and the key).
std::vector<LinearShape> model_shapes(std::string_view model_or_config_path, int tp);

std::vector<std::string> known_models();  // in table order

// "7168,2048" -> {layer "", n 7168, k 2048}: one --shapes value of the CLI. Throws
// fp8kit::Error(kInvalidArgument) naming --shapes and the text unless both are positive integers.
LinearShape parse_shape_arg(std::string_view text);

// A dense decoder (Llama, Mistral, Qwen2, Command-A): attention with grouped KV heads and a gated
// MLP. Its linear layers, (N, K) before TP:
//   qkv_proj     ((heads + 2·kv_heads)·head_dim, hidden)  split on N by heads
//   o_proj       (hidden, heads·head_dim)                 split on K
//   gate_up_proj (2·intermediate, hidden)                 split on N
//   down_proj    (hidden, intermediate)                   split on K
struct DenseModelDims {
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;
  std::int64_t head_dim = 0;
};

// Splits as vLLM's tensor-parallel layers do: heads and intermediate must divide by tp; with
// tp >= kv_heads every rank holds one KV head (replicated, tp % kv_heads == 0), as in
// QKVParallelLinear. `model` names the model in error messages.
std::vector<LinearShape> dense_model_shapes(const DenseModelDims& dims, int tp,
                                            std::string_view model);

// Reads a HuggingFace config.json of a supported dense model_type (llama, mistral, qwen2, qwen3,
// cohere, cohere2): hidden_size, intermediate_size, num_attention_heads, num_key_value_heads
// (default: heads), head_dim (default: hidden / heads).
DenseModelDims read_dense_config(const std::filesystem::path& config_json);

}  // namespace fp8kit
