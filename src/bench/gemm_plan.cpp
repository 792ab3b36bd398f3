#include "bench/gemm_plan.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/gemm_spec.hpp"
#include "core/model_shapes.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {
namespace {

// Name fragments as bench_fp8_gemm.py spells them.
std::string_view weight_word(ScaleModeB m) {
  switch (m) {
    case ScaleModeB::kTensor: return "tensor";
    case ScaleModeB::kChannel: return "channel";
    case ScaleModeB::kBlock128: return "block";
  }
  return "?";
}
std::string_view act_word(ScaleModeA m) {
  switch (m) {
    case ScaleModeA::kTensor: return "tensor";
    case ScaleModeA::kToken: return "token";
    case ScaleModeA::kGroup128: return "group";
  }
  return "?";
}

// The FP8 scale pairs of the study, in name order: the script's four, then block x group.
struct Pair {
  ScaleModeB weight;
  ScaleModeA act;
};
constexpr Pair kPairs[] = {{ScaleModeB::kTensor, ScaleModeA::kTensor},
                           {ScaleModeB::kChannel, ScaleModeA::kToken},
                           {ScaleModeB::kTensor, ScaleModeA::kToken},
                           {ScaleModeB::kChannel, ScaleModeA::kTensor},
                           {ScaleModeB::kBlock128, ScaleModeA::kGroup128}};

std::vector<GemmProvider> all_providers() {
  std::vector<GemmProvider> out{GemmProvider{false, ScaleModeA::kTensor, ScaleModeB::kTensor, false}};
  for (const Pair& p : kPairs) {
    out.push_back({true, p.act, p.weight, false});
    out.push_back({true, p.act, p.weight, true});
  }
  return out;
}

template <typename T>
bool has_duplicates(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) != v.end();
}

template <typename T>
void push_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

std::string GemmProvider::name() const {
  if (!fp8) return "bf16";
  return fmt::format("fp8-{}-w-{}-a{}", weight_word(weight), act_word(act), noquant ? "-noquant" : "");
}

std::vector<std::string> provider_names() {
  std::vector<std::string> out;
  for (const GemmProvider& p : all_providers()) out.push_back(p.name());
  return out;
}

GemmProvider parse_provider(std::string_view name) {
  for (const GemmProvider& p : all_providers()) {
    if (p.name() == name) return p;
  }
  throw_invalid_argument(fmt::format("unknown provider '{}' (known: {})", name, join(provider_names())));
}

std::vector<GemmProvider> default_providers() {
  return {parse_provider("bf16"), parse_provider("fp8-tensor-w-tensor-a"), parse_provider("fp8-tensor-w-tensor-a-noquant"),
          parse_provider("fp8-channel-w-token-a"), parse_provider("fp8-channel-w-token-a-noquant"),
          parse_provider("fp8-block-w-group-a"), parse_provider("fp8-block-w-group-a-noquant")};
}

GemmBackend parse_bench_backend(std::string_view name) {
  if (name == "cublaslt") return GemmBackend::kCublasLt;
  if (name == "reference") return GemmBackend::kReference;
  if (name == "fp8kit") return GemmBackend::kFp8kit;
  if (name == "auto") {
    throw_invalid_argument("backend 'auto' is not measurable: name the backend (cublaslt, reference, fp8kit)");
  }
  throw_invalid_argument(fmt::format("unknown backend '{}' (known: cublaslt, reference, fp8kit)", name));
}

std::string_view act_dist_name(ActDist d) { return d == ActDist::kNormal ? "normal" : "outliers"; }

ActDist parse_act_dist(std::string_view name) {
  if (name == "normal") return ActDist::kNormal;
  if (name == "outliers") return ActDist::kOutliers;
  throw_invalid_argument(fmt::format("--act-dist: unknown distribution '{}' (expected normal or outliers)", name));
}

void validate_options(const GemmSuiteOptions& o) {
  if (!o.shapes.empty()) {
    std::vector<std::pair<std::int64_t, std::int64_t>> nk;
    for (const LinearShape& s : o.shapes) nk.emplace_back(s.n, s.k);
    if (has_duplicates(nk)) throw_invalid_argument("--shapes: an N,K pair is listed twice");
  }
  if (o.hot_activations && o.timing != TimingMode::kCold) {
    throw_invalid_argument("--hot-activations: needs --timing cold (graph timing keeps every operand in L2)");
  }
  if (o.models.empty()) throw_invalid_argument("--models: give at least one model");
  if (has_duplicates(o.models)) throw_invalid_argument("--models: a model is listed twice");
  if (o.tp_sizes.empty()) throw_invalid_argument("--tp-sizes: give at least one TP size");
  for (int tp : o.tp_sizes) {
    if (tp < 1) throw_invalid_argument(fmt::format("--tp-sizes: {} is not a TP size (must be >= 1)", tp));
  }
  if (has_duplicates(o.tp_sizes)) throw_invalid_argument("--tp-sizes: a TP size is listed twice");
  if (o.batch_sizes.empty()) throw_invalid_argument("--batch-sizes: give at least one batch size");
  for (std::int64_t m : o.batch_sizes) {
    if (m < 1 || m > (1 << 20)) {
      throw_invalid_argument(fmt::format("--batch-sizes: {} is out of range (1 to 1048576)", m));
    }
  }
  if (has_duplicates(o.batch_sizes)) throw_invalid_argument("--batch-sizes: a batch size is listed twice");
  if (o.providers.empty()) throw_invalid_argument("--providers: give at least one provider");
  std::vector<std::string> names;
  for (const GemmProvider& p : o.providers) names.push_back(p.name());
  if (has_duplicates(names)) throw_invalid_argument("--providers: a provider is listed twice");
  if (o.backends.empty()) throw_invalid_argument("--backends: give at least one backend");
  std::vector<int> backends;
  for (GemmBackend b : o.backends) {
    if (b == GemmBackend::kAuto) {
      throw_invalid_argument("--backends: backend 'auto' is not measurable: name the backend (cublaslt, reference, fp8kit)");
    }
    backends.push_back(static_cast<int>(b));
  }
  if (has_duplicates(backends)) throw_invalid_argument("--backends: a backend is listed twice");
}

std::string GemmShapeEntry::models_text() const { return join(models); }
std::string GemmShapeEntry::tps_text() const {
  std::vector<std::string> s;
  for (int tp : tps) s.push_back(std::to_string(tp));
  return join(s);
}
std::string GemmShapeEntry::layers_text() const { return join(layers); }

std::vector<GemmShapeEntry> expand_shapes(const std::vector<std::string>& models, const std::vector<int>& tps) {
  std::vector<GemmShapeEntry> out;
  for (const std::string& model : models) {
    for (int tp : tps) {
      std::vector<LinearShape> shapes;
      try {
        shapes = model_shapes(model, tp);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("--models: {}", e.what()));
      }
      for (const LinearShape& s : shapes) {
        auto it = std::find_if(out.begin(), out.end(), [&](const GemmShapeEntry& e) { return e.n == s.n && e.k == s.k; });
        if (it == out.end()) {
          out.push_back({s.n, s.k, {}, {}, {}});
          it = out.end() - 1;
        }
        push_unique(it->models, model);
        push_unique(it->tps, tp);
        push_unique(it->layers, s.layer);
      }
    }
  }
  return out;
}

GemmPlan make_plan(const GemmSuiteOptions& options) {
  validate_options(options);
  GemmPlan plan;
  if (options.shapes.empty()) {
    plan.shapes = expand_shapes(options.models, options.tp_sizes);
  } else {
    for (const LinearShape& s : options.shapes) plan.shapes.push_back({s.n, s.k, {"--shapes"}, {1}, {"given"}});
  }
  const bool several = options.backends.size() > 1;
  for (const GemmProvider& p : options.providers) {
    for (GemmBackend b : options.backends) {
      GemmRun run{p, b, several ? fmt::format("{}@{}", p.name(), gemm_backend_name(b)) : p.name()};
      if (!p.fp8 && b != GemmBackend::kCublasLt) {
        plan.skipped.push_back({run.label, "the BF16 baseline runs on cublaslt only"});
      } else if (p.fp8 && !backend_supports(b, p.act, p.weight)) {
        plan.skipped.push_back({run.label, fmt::format("backend {} does not support {} activations x {} weights",
                                                       gemm_backend_name(b), scale_mode_name(p.act),
                                                       scale_mode_name(p.weight))});
      } else {
        plan.runs.push_back(std::move(run));
      }
    }
  }
  return plan;
}

std::optional<std::string> shape_skip_reason(const GemmRun& run, std::int64_t n, std::int64_t k) {
  try {
    validate_gemm(GemmShape{1, n, k}, run.provider.act, run.provider.fp8 ? run.provider.weight : ScaleModeB::kTensor);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace fp8kit::bench
