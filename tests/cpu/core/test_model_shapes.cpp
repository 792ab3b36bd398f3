#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/model_shapes.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

using NK = std::vector<std::pair<std::int64_t, std::int64_t>>;

NK nk(const std::vector<LinearShape>& shapes) {
  NK out;
  for (const LinearShape& s : shapes) out.emplace_back(s.n, s.k);
  return out;
}

template <typename F>
void expect_invalid(F f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning \"" << needles.front() << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    for (const std::string& needle : needles) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "missing \"" << needle << "\" in: " << e.what();
    }
  }
}

TEST(ModelShapes, DeepSeekV3Tp1) {
  EXPECT_EQ(nk(model_shapes("deepseek-ai/DeepSeek-V3", 1)),
            (NK{{576, 7168}, {24576, 7168}, {32768, 512}, {7168, 16384}, {7168, 18432},
                {2112, 7168}, {36864, 7168}, {24576, 1536}, {12288, 7168}, {4096, 7168},
                {7168, 2048}}));
}

TEST(ModelShapes, DeepSeekV3Tp8) {
  const auto shapes = model_shapes("deepseek-ai/DeepSeek-V3", 8);
  EXPECT_EQ(nk(shapes),
            (NK{{576, 7168}, {24576, 7168}, {32768, 512}, {7168, 16384}, {7168, 18432},
                {2112, 7168}, {4608, 7168}, {3072, 7168}, {4096, 512}, {3072, 1536},
                {1536, 7168}, {512, 7168}, {7168, 2304}, {7168, 2048}, {7168, 256}}));
  EXPECT_EQ(shapes.front().layer, "never_split_1");
  EXPECT_EQ(shapes.back().layer, "k_split_3");
}

TEST(ModelShapes, Llama31_8B) {
  const auto tp1 = model_shapes("meta-llama/Llama-3.1-8B-Instruct", 1);
  EXPECT_EQ(tp1, (std::vector<LinearShape>{{"qkv_proj", 6144, 4096},
                                           {"o_proj", 4096, 4096},
                                           {"gate_up_proj", 28672, 4096},
                                           {"down_proj", 4096, 14336}}));
  EXPECT_EQ(nk(model_shapes("meta-llama/Llama-3.1-8B-Instruct", 2)),
            (NK{{3072, 4096}, {4096, 2048}, {14336, 4096}, {4096, 7168}}));
}

// Each dense model's TP-1 shapes are vLLM's weight_shapes.py entries ([K, N] there), which checks
// the dimensions the table is built from.
TEST(ModelShapes, TableMatchesVllmAtTp1) {
  const std::map<std::string, NK> vllm = {
      {"mistralai/Mistral-7B-v0.1", {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}}},
      {"meta-llama/Llama-2-7b-hf", {{12288, 4096}, {4096, 4096}, {22016, 4096}, {4096, 11008}}},
      {"meta-llama/Llama-2-13b-hf", {{15360, 5120}, {5120, 5120}, {27648, 5120}, {5120, 13824}}},
      {"meta-llama/Llama-2-70b-hf", {{10240, 8192}, {8192, 8192}, {57344, 8192}, {8192, 28672}}},
      {"meta-llama/Llama-3-8b", {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}}},
      {"meta-llama/Llama-3.1-8B-Instruct",
       {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}}},
      {"meta-llama/Llama-3.1-405b-hf",
       {{18432, 16384}, {16384, 16384}, {106496, 16384}, {16384, 53248}}},
      {"meta-llama/Llama-3.3-70B-Instruct",
       {{10240, 8192}, {8192, 8192}, {57344, 8192}, {8192, 28672}}},
      {"mistralai/Mistral-Large-Instruct-2407",
       {{14336, 12288}, {12288, 12288}, {57344, 12288}, {12288, 28672}}},
      {"Qwen/Qwen2.5-7B-Instruct", {{4608, 3584}, {3584, 3584}, {37888, 3584}, {3584, 18944}}},
      {"Qwen/Qwen2.5-32B-Instruct", {{7168, 5120}, {5120, 5120}, {55296, 5120}, {5120, 27648}}},
      {"Qwen/Qwen2.5-72B-Instruct", {{10240, 8192}, {8192, 8192}, {59136, 8192}, {8192, 29568}}},
      {"deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",
       {{3072, 2048}, {4096, 2048}, {2048, 2048}, {576, 2048}, {21888, 2048}, {2048, 10944},
        {2816, 2048}, {2048, 1408}}},
      {"CohereLabs/c4ai-command-a-03-2025",
       {{14336, 12288}, {12288, 12288}, {73728, 12288}, {12288, 36864}}},
  };
  const auto known = known_models();
  EXPECT_EQ(known.size(), vllm.size() + 1);  // + DeepSeek-V3
  for (const auto& [model, expected] : vllm) {
    EXPECT_NE(std::find(known.begin(), known.end(), model), known.end()) << model;
    EXPECT_EQ(nk(model_shapes(model, 1)), expected) << model;
  }
}

TEST(ModelShapes, TableSplitsAsVllmDoes) {
  // DeepSeek-Coder-V2-Lite at TP 2: N-split and K-split entries halve (kv_a_proj on K, as vLLM).
  EXPECT_EQ(nk(model_shapes("deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct", 2)),
            (NK{{1536, 2048}, {2048, 2048}, {2048, 1024}, {576, 1024}, {10944, 2048},
                {2048, 5472}, {1408, 2048}, {2048, 704}}));
  // Llama-2-70b at TP 8: 10240 / 8 (one KV head per rank, nothing to replicate yet).
  EXPECT_EQ(nk(model_shapes("meta-llama/Llama-2-70b-hf", 8)),
            (NK{{1280, 8192}, {8192, 1024}, {7168, 8192}, {8192, 3584}}));
}

TEST(ModelShapes, Errors) {
  expect_invalid([] { model_shapes("nobody/NoModel-1B", 1); },
                 {"unknown model \"nobody/NoModel-1B\"", "meta-llama/Llama-3.1-8B-Instruct",
                  "deepseek-ai/DeepSeek-V3", "config.json"});
  expect_invalid([] { model_shapes("meta-llama/Llama-3.1-8B-Instruct", 0); }, {"tp must be >= 1"});
  // 6144 / 5 is not whole.
  expect_invalid([] { model_shapes("meta-llama/Llama-3.1-8B-Instruct", 5); },
                 {"meta-llama/Llama-3.1-8B-Instruct", "qkv_proj", "divisible by tp = 5"});
  // 2112 is never split; 36864 / 7 is not whole.
  expect_invalid([] { model_shapes("deepseek-ai/DeepSeek-V3", 7); },
                 {"deepseek-ai/DeepSeek-V3", "n_split_1", "N = 36864"});
}

// --- config.json ------------------------------------------------------------------------------

class ModelShapesConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("fp8kit-model-shapes-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ModelShapesConfig, LlamaLikeMatchesTheTable) {
  // Llama-3.1-8B's dimensions, as its config.json states them (no head_dim).
  const auto path = write("llama/config.json", R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
    "num_hidden_layers": 32, "rope_theta": 500000.0})");
  for (int tp : {1, 2, 4, 8}) {
    EXPECT_EQ(model_shapes(path.string(), tp),
              model_shapes("meta-llama/Llama-3.1-8B-Instruct", tp)) << "tp " << tp;
  }
  // A directory holding config.json works the same.
  EXPECT_EQ(model_shapes((dir_ / "llama").string(), 2),
            model_shapes("meta-llama/Llama-3.1-8B-Instruct", 2));
}

TEST_F(ModelShapesConfig, HeadDimDiffersFromHiddenOverHeads) {
  // Qwen3-32B-like: 64 heads of 128 on a 5120 hidden size; null KV heads default to heads.
  const auto path = write("qwen3.json", R"({"model_type": "qwen3", "hidden_size": 5120,
    "intermediate_size": 25600, "num_attention_heads": 64, "num_key_value_heads": 8,
    "head_dim": 128})");
  EXPECT_EQ(nk(model_shapes(path.string(), 1)),
            (NK{{10240, 5120}, {5120, 8192}, {51200, 5120}, {5120, 25600}}));
  EXPECT_EQ(nk(model_shapes(path.string(), 4)),
            (NK{{2560, 5120}, {5120, 2048}, {12800, 5120}, {5120, 6400}}));

  const auto mha = write("mha.json", R"({"model_type": "mistral", "hidden_size": 1024,
    "intermediate_size": 2048, "num_attention_heads": 8, "num_key_value_heads": null,
    "head_dim": null})");
  // 8 KV heads (= heads), head_dim 1024 / 8 = 128.
  EXPECT_EQ(nk(model_shapes(mha.string(), 2)),
            (NK{{1536, 1024}, {1024, 512}, {2048, 1024}, {1024, 1024}}));
}

TEST_F(ModelShapesConfig, TpBeyondKvHeadsReplicatesThem) {
  // 8 heads, 2 KV heads of 64. TP 4: 2 heads and 1 (replicated) KV head per rank:
  // (2 + 2·1)·64 = 256, where plain division would give (8 + 4)·64 / 4 = 192.
  const auto path = write("small.json", R"({"model_type": "qwen2", "hidden_size": 512,
    "intermediate_size": 1024, "num_attention_heads": 8, "num_key_value_heads": 2,
    "head_dim": 64})");
  EXPECT_EQ(nk(model_shapes(path.string(), 2)),
            (NK{{384, 512}, {512, 256}, {1024, 512}, {512, 512}}));
  EXPECT_EQ(nk(model_shapes(path.string(), 4)),
            (NK{{256, 512}, {512, 128}, {512, 512}, {512, 256}}));
  EXPECT_EQ(nk(model_shapes(path.string(), 8)),
            (NK{{192, 512}, {512, 64}, {256, 512}, {512, 128}}));
  // 16 ranks cannot share 8 heads.
  expect_invalid([&] { model_shapes(path.string(), 16); }, {"qkv_proj", "attention heads"});

  // 12 heads, 4 KV heads, TP 6: 6 ranks cannot replicate 4 KV heads evenly.
  const auto odd = write("odd.json", R"({"model_type": "llama", "hidden_size": 768,
    "intermediate_size": 1536, "num_attention_heads": 12, "num_key_value_heads": 4})");
  expect_invalid([&] { model_shapes(odd.string(), 6); }, {"tp = 6", "KV heads (4)"});
}

TEST_F(ModelShapesConfig, BadFiles) {
  const auto malformed = write("malformed.json", R"({"model_type": "llama", "hidden_size": )");
  expect_invalid([&] { model_shapes(malformed.string(), 1); },
                 {malformed.string(), "malformed JSON"});

  const auto missing = write("missing.json", R"({"model_type": "llama", "hidden_size": 4096,
    "num_attention_heads": 32})");
  expect_invalid([&] { model_shapes(missing.string(), 1); },
                 {missing.string(), "missing key \"intermediate_size\""});

  const auto no_type = write("no_type.json", R"({"hidden_size": 4096})");
  expect_invalid([&] { model_shapes(no_type.string(), 1); }, {"missing key \"model_type\""});

  const auto moe = write("moe.json", R"({"model_type": "mixtral", "hidden_size": 4096})");
  expect_invalid([&] { model_shapes(moe.string(), 1); },
                 {moe.string(), "model_type \"mixtral\" is not supported"});

  const auto not_int = write("not_int.json", R"({"model_type": "llama", "hidden_size": 4096.5,
    "intermediate_size": 1, "num_attention_heads": 1})");
  expect_invalid([&] { model_shapes(not_int.string(), 1); },
                 {"\"hidden_size\" must be a positive integer"});

  const auto array = write("array.json", "[1, 2]");
  expect_invalid([&] { model_shapes(array.string(), 1); }, {"JSON object"});

  // A .json path that does not exist, and a directory without config.json.
  const auto absent = (dir_ / "absent.json").string();
  expect_invalid([&] { model_shapes(absent, 1); }, {absent, "no such config file"});
  std::filesystem::create_directories(dir_ / "empty");
  expect_invalid([&] { model_shapes((dir_ / "empty").string(), 1); },
                 {(dir_ / "empty" / "config.json").string(), "no such config file"});
}

}  // namespace
}  // namespace fp8kit
