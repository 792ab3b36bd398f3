// fp8kit::scaled_mm / mm / linear: argument checks, backend choice and the reference launcher.
#include <cuda_runtime_api.h>

#include <initializer_list>
#include <utility>

#include <fmt/format.h>

#include "blas/cublaslt_gemm.hpp"
#include "core/gemm_spec.hpp"
#include "core/tuned_configs.hpp"
#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "jit/kernel_loader.hpp"
#include "ops/gemm_config_choice.hpp"
#include "ops/device_pointers.hpp"
#include "ops/gemm_kernels.hpp"
#include "ops/scaled_mm_checks.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit {
namespace {

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::kInvalidArgument, message); }

// Every non-empty tensor must be device memory of the current device; a pointer this thread has
// already checked is not queried again (ops/device_pointers.hpp: a query is about a launch of host time).
void require_device_pointers(const char* op, std::initializer_list<std::pair<const char*, const TensorView*>> tensors) {
  int device = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  for (const auto& [name, t] : tensors) {
    if (t != nullptr && t->numel() > 0) ops::check_device_pointer_remembered(t->data, name, device, op);
  }
}

std::optional<DType> bias_dtype(const std::optional<TensorView>& bias) {
  return bias ? std::optional<DType>(bias->dtype) : std::nullopt;
}

void reference_scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
                         ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
                         const std::optional<TensorView>& bias, cudaStream_t stream, const GemmShape& s) {
  const jit::LoadedKernel& kernel = jit::load_kernel(ops::reference_gemm_source(mode_a, mode_b, out.dtype));
  ops::RefGemmParams p{};
  p.a = a.data;
  p.b = b.data;
  p.scale_a = static_cast<const float*>(scale_a.data);
  p.scale_b = static_cast<const float*>(scale_b.data);
  p.out = out.data;
  p.bias = bias ? bias->data : nullptr;
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.lda = s.m > 1 ? a.stride(0) : s.k;
  p.ldb = s.n > 1 ? b.stride(0) : s.k;
  p.ldd = s.m > 1 ? out.stride(0) : s.n;
  p.scale_a_ld = group128_scale_ld(s.m);
  p.scale_b_ld = block128_scale_ld(s.k);
  p.bias_dtype = ops::gemm_bias_code(bias_dtype(bias));
  const auto tiles = [](std::int64_t v) { return static_cast<unsigned>((v + ops::kRefGemmTile - 1) / ops::kRefGemmTile); };
  if (tiles(s.m) > 65535u) fail(fmt::format("scaled_mm: backend reference supports M <= {}, got {}", 65535 * 16, s.m));
  kernel.launch_with(dim3(tiles(s.n), tiles(s.m)), dim3(ops::kRefGemmTile, ops::kRefGemmTile), 0, stream, p);
}

}  // namespace

std::string_view gemm_backend_name(GemmBackend b) {
  switch (b) {
    case GemmBackend::kAuto: return "auto";
    case GemmBackend::kCublasLt: return "cublaslt";
    case GemmBackend::kReference: return "reference";
    case GemmBackend::kFp8kit: return "fp8kit";
  }
  fail(fmt::format("unknown GemmBackend value {}", static_cast<int>(b)));
}

GemmBackend parse_gemm_backend(std::string_view name) {
  for (GemmBackend b : {GemmBackend::kAuto, GemmBackend::kCublasLt, GemmBackend::kReference, GemmBackend::kFp8kit}) {
    if (name == gemm_backend_name(b)) return b;
  }
  fail(fmt::format("unknown GEMM backend '{}': expected auto, cublaslt, reference or fp8kit", name));
}

bool backend_supports(GemmBackend backend, ScaleModeA a, ScaleModeB b) {
  switch (backend) {
    case GemmBackend::kAuto:
    case GemmBackend::kReference: return true;
    case GemmBackend::kCublasLt: return blas::cublaslt_supports(a, b);
    case GemmBackend::kFp8kit: return ops::sm90_fp8_gemm_supports(a, b);
  }
  return false;
}

GemmBackend resolve_gemm_backend(GemmBackend requested, ScaleModeA a, ScaleModeB b, DType out,
                                 std::optional<DType> bias) {
  if (requested != GemmBackend::kAuto) return requested;
  const bool bias_ok = !bias || *bias == ops::cublaslt_fp8_bias_dtype(out);
  return blas::cublaslt_supports(a, b) && ops::cublaslt_supports_out(a, b, out) && bias_ok ? GemmBackend::kCublasLt
                                                                                           : GemmBackend::kReference;
}

void scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
               ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
               const std::optional<TensorView>& bias, cudaStream_t stream, const ScaledMmOptions& options) {
  const GemmShape s = ops::check_scaled_mm_args(a, b, mode_a, scale_a, mode_b, scale_b, out, bias);
  GemmBackend backend = resolve_gemm_backend(options.backend, mode_a, mode_b, out.dtype, bias_dtype(bias));
  if (options.backend == GemmBackend::kAuto && backend == GemmBackend::kCublasLt &&
      !ops::cublaslt_supports_m(mode_a, mode_b, s.m)) {
    backend = GemmBackend::kReference;
  }
  ops::check_backend_rules(backend, mode_a, mode_b, out.dtype, bias_dtype(bias), options, s.m);
  if (s.m == 0) return;
  require_device_pointers("scaled_mm", {{"a", &a}, {"b", &b}, {"scale_a", &scale_a}, {"scale_b", &scale_b},
                                        {"out", &out}, {"bias", bias ? &*bias : nullptr}});
  switch (backend) {
    case GemmBackend::kCublasLt:
      blas::cublaslt_scaled_mm(a, b, mode_a, scale_a, mode_b, scale_b, out, bias, stream, options.fast_accum);
      return;
    case GemmBackend::kReference:
      reference_scaled_mm(a, b, mode_a, scale_a, mode_b, scale_b, out, bias, stream, s);
      return;
    case GemmBackend::kFp8kit: {
      // A tuned config (`fp8kit tune`'s files: shipped for this device, or the user's) when one
      // exists for this shape and scale pair, else the heuristic; fast_accum is refused above with
      // 128-wide scales.
      const GemmConfig config = ops::choose_gemm_config(s, mode_a, mode_b, out.dtype, options.fast_accum,
                                                        cuda::current_device_info_cached());
      ops::fp8kit_scaled_mm(a, b, mode_a, scale_a, mode_b, scale_b, out, bias, stream, config,
                            {.prefetch_b = options.b_is_weight});
      return;
    }
    default: break;
  }
  fail(fmt::format("scaled_mm: backend {} cannot run", gemm_backend_name(backend)));
}

void set_gemm_config_dir(std::optional<std::filesystem::path> dir) { set_tuned_config_dir(std::move(dir)); }

void mm(const TensorView& a, const TensorView& b, const TensorView& out, const std::optional<TensorView>& bias,
        cudaStream_t stream) {
  const GemmShape s = ops::check_mm_args(a, b, out, bias);
  if (s.m == 0) return;
  require_device_pointers("mm", {{"a", &a}, {"b", &b}, {"out", &out}, {"bias", bias ? &*bias : nullptr}});
  blas::cublaslt_mm(a, b, out, bias, stream);
}

}  // namespace fp8kit
