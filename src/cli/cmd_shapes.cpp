// fp8kit shapes: the (N, K) of every linear layer of a model at a tensor-parallel size.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/model_shapes.hpp"

namespace fp8kit::cli {
namespace {

struct ShapesArgs {
  std::string model = "meta-llama/Llama-3.1-8B-Instruct";
  int tp = 1;
  bool list = false;
};

void run_shapes(const ShapesArgs& args) {
  if (args.list) {
    for (const std::string& name : known_models()) fmt::print("{}\n", name);
    return;
  }
  const std::vector<LinearShape> shapes = model_shapes(args.model, args.tp);
  fmt::print("# {} at TP {}: {} GEMM shapes (N, K) of D = A · Bᵀ, B = W (N, K)\n", args.model, args.tp, shapes.size());
  fmt::print("{:<16} {:>8} {:>8}\n", "layer", "N", "K");
  for (const LinearShape& s : shapes) fmt::print("{:<16} {:>8} {:>8}\n", s.layer, s.n, s.k);
}

}  // namespace

void add_shapes_command(CLI::App& app) {
  auto args = std::make_shared<ShapesArgs>();
  CLI::App* cmd = app.add_subcommand("shapes", "print the (N, K) of each linear layer of a model");
  cmd->add_option("--model", args->model, "model name (see --list) or path to a HuggingFace config.json")
      ->capture_default_str();
  cmd->add_option("--tp", args->tp, "tensor-parallel size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--list", args->list, "list the built-in models");
  cmd->callback([args] { run_shapes(*args); });
}

}  // namespace fp8kit::cli
