#include "blas/cublaslt_gemm.hpp"

#include <cublasLt.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <fmt/format.h>

#include "cuda/check.hpp"
#include "cuda/resources.hpp"
#include "jit/kernel_loader.hpp"
#include "blas/scale_broadcast.hpp"

namespace fp8kit::blas {
namespace {

constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;
constexpr std::uint32_t kAlignBytes = 16;

ErrorKind status_kind(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_INVALID_VALUE: return ErrorKind::kInvalidArgument;
    case CUBLAS_STATUS_EXECUTION_FAILED:
    case CUBLAS_STATUS_INTERNAL_ERROR: return ErrorKind::kCheckFailed;
    default: return ErrorKind::kEnvironment;  // NOT_SUPPORTED, ARCH_MISMATCH, NOT_INITIALIZED, ALLOC_FAILED
  }
}

void check_lt(cublasStatus_t s, const char* expr, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw Error(status_kind(s), fmt::format("cuBLASLt error {} ({}) in {} [{}]", cublasLtGetStatusName(s),
                                          cublasLtGetStatusString(s), expr, what));
}

#define FP8KIT_LT_CHECK(expr, what) check_lt((expr), #expr, (what))

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::kFloat32: return CUDA_R_32F;
    case DType::kFloat16: return CUDA_R_16F;
    case DType::kBFloat16: return CUDA_R_16BF;
    case DType::kE4M3: return CUDA_R_8F_E4M3;
    case DType::kE5M2: return CUDA_R_8F_E5M2;
  }
  throw Error(ErrorKind::kInvalidArgument, "unknown dtype");
}

std::int32_t lt_scale_mode(ScaleModeB m) {  // cuBLAS A side (our weight)
  switch (m) {
    case ScaleModeB::kTensor: return CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F;
    case ScaleModeB::kChannel: return CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
    case ScaleModeB::kBlock128: return CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
  }
  return -1;
}

std::int32_t lt_scale_mode(ScaleModeA m) {  // cuBLAS B side (our activations)
  switch (m) {
    case ScaleModeA::kTensor: return CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F;
    case ScaleModeA::kToken: return CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
    case ScaleModeA::kGroup128: return CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
  }
  return -1;
}

// Which side, if any, is a per-tensor scale expanded to an OUTER_VEC vector.
enum class Broadcast { kNone, kScaleA, kScaleB };

Broadcast broadcast_side(ScaleModeA a, ScaleModeB b) {
  if (a == ScaleModeA::kToken && b == ScaleModeB::kTensor) return Broadcast::kScaleB;
  if (a == ScaleModeA::kTensor && b == ScaleModeB::kChannel) return Broadcast::kScaleA;
  return Broadcast::kNone;
}

struct PlanKey {
  int device;
  cudaStream_t stream;
  std::int64_t m, n, k, lda, ldb, ldd;
  DType in, out;
  int mode_a, mode_b;  // -1: unscaled (mm)
  int bias;            // -1: none, else DType
  bool fast_accum;
  auto tie() const { return std::tie(device, stream, m, n, k, lda, ldb, ldd, in, out, mode_a, mode_b, bias, fast_accum); }
  bool operator<(const PlanKey& o) const { return tie() < o.tie(); }
};

std::string describe(const PlanKey& k) {
  return fmt::format("cublaslt {} M={} N={} K={} lda={} ldb={} ldd={} out={} modes a={} b={} bias={} fast_accum={} "
                     "device {}",
                     dtype_name(k.in), k.m, k.n, k.k, k.lda, k.ldb, k.ldd, dtype_name(k.out), k.mode_a, k.mode_b,
                     k.bias < 0 ? std::string_view("none") : dtype_name(static_cast<DType>(k.bias)), k.fast_accum,
                     k.device);
}

struct Plan {
  std::string what;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;  // cuBLAS's A, B, C, D
  cublasLtMatmulAlgo_t algo{};
  Broadcast broadcast = Broadcast::kNone;
  cuda::DeviceBuffer broadcast_vec;  // (M) or (N) fp32 when broadcast != kNone
  const jit::LoadedKernel* broadcast_kernel = nullptr;
  ~Plan() {
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

// Process-wide state. Handles and workspaces live until exit on purpose: destroying them from a
// static destructor would race the CUDA runtime's own teardown.
struct State {
  std::mutex mutex;  // one call at a time sets a plan's pointer attributes and enqueues it
  std::map<int, cublasLtHandle_t> handles;
  std::map<std::pair<int, cudaStream_t>, cuda::DeviceBuffer> workspaces;
  std::map<PlanKey, std::unique_ptr<Plan>> plans;
};

State& state() {
  static State* s = new State();  // never destroyed, see above
  return *s;
}

void refuse_if_capturing(cudaStream_t stream, const std::string& what) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  FP8KIT_CUDA_CHECK(cudaStreamIsCapturing(stream, &status));
  if (status != cudaStreamCaptureStatusNone) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{}: the first call for a shape allocates (workspace, descriptors, scale vectors) and "
                            "cannot be captured in a CUDA graph; call it once before capturing",
                            what));
  }
}

cublasLtHandle_t handle_for(State& s, int device) {
  auto it = s.handles.find(device);
  if (it != s.handles.end()) return it->second;
  cublasLtHandle_t h = nullptr;
  FP8KIT_LT_CHECK(cublasLtCreate(&h), fmt::format("device {}", device));
  s.handles.emplace(device, h);
  return h;
}

void* workspace_for(State& s, int device, cudaStream_t stream, const std::string& what) {
  const auto key = std::make_pair(device, stream);
  auto it = s.workspaces.find(key);
  if (it == s.workspaces.end()) {
    refuse_if_capturing(stream, what);
    it = s.workspaces.emplace(key, cuda::DeviceBuffer(kWorkspaceBytes)).first;
  }
  return it->second.data();
}

template <typename T>
void set_attr(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const T& value, const std::string& what) {
  FP8KIT_LT_CHECK(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof(value)), what);
}

struct CallPointers {
  const void* scale_a_lt = nullptr;  // cuBLAS A's scale (our scale_b, or its broadcast)
  const void* scale_b_lt = nullptr;  // cuBLAS B's scale (our scale_a, or its broadcast)
  const void* bias = nullptr;
};

void set_pointers(Plan& p, const CallPointers& ptrs, bool scaled) {
  if (scaled) {
    set_attr(p.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, ptrs.scale_a_lt, p.what);
    set_attr(p.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, ptrs.scale_b_lt, p.what);
  }
  if (ptrs.bias) set_attr(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, ptrs.bias, p.what);
}

std::unique_ptr<Plan> make_plan(cublasLtHandle_t handle, const PlanKey& key, const CallPointers& ptrs,
                                Broadcast side) {
  auto p = std::make_unique<Plan>();
  p->what = describe(key);
  const bool scaled = key.mode_a >= 0;
  FP8KIT_LT_CHECK(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), p->what);
  // TN: cuBLAS A = our B read transposed (K x N, column n = row n of B), cuBLAS B = our A.
  set_attr(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, std::int32_t{CUBLAS_OP_T}, p->what);
  set_attr(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, std::int32_t{CUBLAS_OP_N}, p->what);
  if (scaled) {
    // A broadcast per-tensor side is an OUTER_VEC vector like the other side.
    const std::int32_t outer = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
    set_attr(p->desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE,
             side == Broadcast::kScaleB ? outer : lt_scale_mode(static_cast<ScaleModeB>(key.mode_b)), p->what);
    set_attr(p->desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE,
             side == Broadcast::kScaleA ? outer : lt_scale_mode(static_cast<ScaleModeA>(key.mode_a)), p->what);
    set_attr(p->desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, static_cast<std::int8_t>(key.fast_accum ? 1 : 0), p->what);
  }
  if (key.bias >= 0) {
    set_attr(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, std::uint32_t{CUBLASLT_EPILOGUE_BIAS}, p->what);
    set_attr(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
             static_cast<std::int32_t>(cuda_type(static_cast<DType>(key.bias))), p->what);
  }
  set_pointers(*p, ptrs, scaled);

  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  FP8KIT_LT_CHECK(cublasLtMatrixLayoutCreate(&p->a, cuda_type(key.in), u(key.k), u(key.n), key.ldb), p->what);
  FP8KIT_LT_CHECK(cublasLtMatrixLayoutCreate(&p->b, cuda_type(key.in), u(key.k), u(key.m), key.lda), p->what);
  FP8KIT_LT_CHECK(cublasLtMatrixLayoutCreate(&p->c, cuda_type(key.out), u(key.n), u(key.m), key.ldd), p->what);
  FP8KIT_LT_CHECK(cublasLtMatrixLayoutCreate(&p->d, cuda_type(key.out), u(key.n), u(key.m), key.ldd), p->what);

  cublasLtMatmulPreference_t pref = nullptr;
  FP8KIT_LT_CHECK(cublasLtMatmulPreferenceCreate(&pref), p->what);
  std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, decltype(&cublasLtMatmulPreferenceDestroy)> pref_owner(
      pref, &cublasLtMatmulPreferenceDestroy);
  const std::uint64_t ws = kWorkspaceBytes;
  FP8KIT_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
                  p->what);
  for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
    FP8KIT_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &kAlignBytes, sizeof kAlignBytes), p->what);
  }
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  FP8KIT_LT_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, p->desc, p->a, p->b, p->c, p->d, pref, 1, &result, &found),
                  p->what);
  if (found == 0) {
    throw Error(ErrorKind::kEnvironment,
                fmt::format("cuBLASLt has no algorithm for {} on this GPU (cublasLtMatmulAlgoGetHeuristic returned "
                            "none); use backend reference",
                            p->what));
  }
  p->algo = result.algo;
  return p;
}

void run(const PlanKey& key, const void* a, const void* b, const void* scale_a, const void* scale_b, void* out,
         const void* bias, cudaStream_t stream) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  cublasLtHandle_t handle = handle_for(s, key.device);
  const std::string what = describe(key);
  void* workspace = workspace_for(s, key.device, stream, what);

  const bool scaled = key.mode_a >= 0;
  CallPointers ptrs{scale_b, scale_a, bias};
  auto it = s.plans.find(key);
  Plan* plan = nullptr;
  if (it == s.plans.end()) {
    refuse_if_capturing(stream, what);
    Broadcast side = scaled ? broadcast_side(static_cast<ScaleModeA>(key.mode_a), static_cast<ScaleModeB>(key.mode_b))
                            : Broadcast::kNone;
    cuda::DeviceBuffer vec;
    const jit::LoadedKernel* kernel = nullptr;
    if (side != Broadcast::kNone) {
      const std::int64_t len = side == Broadcast::kScaleA ? key.m : key.n;
      vec = cuda::DeviceBuffer(static_cast<std::size_t>(len) * sizeof(float));
      kernel = &jit::load_kernel(scale_broadcast_source());
      (side == Broadcast::kScaleA ? ptrs.scale_b_lt : ptrs.scale_a_lt) = vec.data();
    }
    auto made = make_plan(handle, key, ptrs, side);
    made->broadcast = side;
    made->broadcast_vec = std::move(vec);
    made->broadcast_kernel = kernel;
    plan = s.plans.emplace(key, std::move(made)).first->second.get();
  } else {
    plan = it->second.get();
  }

  if (plan->broadcast != Broadcast::kNone) {
    const bool on_a = plan->broadcast == Broadcast::kScaleA;
    const std::int64_t len = on_a ? key.m : key.n;
    const ScaleBroadcastParams bp{static_cast<const float*>(on_a ? scale_a : scale_b),
                                       plan->broadcast_vec.as<float>(), len};
    const auto blocks = static_cast<unsigned>(std::min<std::int64_t>((len + kBroadcastThreads - 1) /
                                                                         kBroadcastThreads, 1024));
    plan->broadcast_kernel->launch_with(dim3(blocks), dim3(kBroadcastThreads), 0, stream, bp);
    (on_a ? ptrs.scale_b_lt : ptrs.scale_a_lt) = plan->broadcast_vec.data();
  }
  set_pointers(*plan, ptrs, scaled);
  const float alpha = 1.0f, beta = 0.0f;
  // cuBLAS: D = alpha · (A · B) + beta · C with A := our B, B := our A (TN, see the header).
  FP8KIT_LT_CHECK(cublasLtMatmul(handle, plan->desc, &alpha, b, plan->a, a, plan->b, &beta, out, plan->c, out, plan->d,
                                 &plan->algo, workspace, kWorkspaceBytes, stream),
                  plan->what);
}

int current_device() {
  int device = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

}  // namespace

bool cublaslt_supports(ScaleModeA a, ScaleModeB b) {
  const bool outer = (a == ScaleModeA::kTensor || a == ScaleModeA::kToken) &&
                     (b == ScaleModeB::kTensor || b == ScaleModeB::kChannel);
  return outer || (a == ScaleModeA::kGroup128 && b == ScaleModeB::kBlock128);
}

// The cache key of one call. A single row has no meaningful stride: use its length.
static PlanKey plan_key(const TensorView& a, const TensorView& b, const TensorView& out, const std::optional<TensorView>& bias,
                 cudaStream_t stream, int mode_a, int mode_b, bool fast_accum) {
  const std::int64_t m = a.size(0), n = b.size(0);
  return PlanKey{current_device(),
                 stream,
                 m,
                 n,
                 a.size(1),
                 m > 1 ? a.stride(0) : a.size(1),
                 n > 1 ? b.stride(0) : b.size(1),
                 m > 1 ? out.stride(0) : out.size(1),
                 a.dtype,
                 out.dtype,
                 mode_a,
                 mode_b,
                 bias ? static_cast<int>(bias->dtype) : -1,
                 fast_accum};
}

void cublaslt_scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
                        ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
                        const std::optional<TensorView>& bias, cudaStream_t stream, bool fast_accum) {
  const std::int64_t m = a.size(0);
  if (m == 0) return;
  const PlanKey key = plan_key(a, b, out, bias, stream, static_cast<int>(mode_a), static_cast<int>(mode_b), fast_accum);
  run(key, a.data, b.data, scale_a.data, scale_b.data, out.data, bias ? bias->data : nullptr, stream);
}

void cublaslt_mm(const TensorView& a, const TensorView& b, const TensorView& out,
                 const std::optional<TensorView>& bias, cudaStream_t stream) {
  const std::int64_t m = a.size(0);
  if (m == 0) return;
  const PlanKey key = plan_key(a, b, out, bias, stream, -1, -1, false);
  run(key, a.data, b.data, nullptr, nullptr, out.data, bias ? bias->data : nullptr, stream);
}

std::size_t cublaslt_plan_count() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.plans.size();
}

}  // namespace fp8kit::blas
