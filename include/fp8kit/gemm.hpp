// Scaled-GEMM vocabulary (DESIGN.md §3): D = A · Bᵀ with A (M, K) and B (N, K) in E4M3.
// fp8kit::scaled_mm and fp8kit::linear are the GPU entry points; the CPU reference in src/core
// uses the same types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {

enum class ScaleModeA : std::uint8_t { kTensor, kToken, kGroup128 };
enum class ScaleModeB : std::uint8_t { kTensor, kChannel, kBlock128 };

std::string_view scale_mode_name(ScaleModeA m);  // "tensor", "token", "group128"
std::string_view scale_mode_name(ScaleModeB m);  // "tensor", "channel", "block128"

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
};

// Scale tensors as the GEMM reads them (fp32):
//   A kTensor: 1 value; kToken: M values; kGroup128: (M, K/128) column-major TMA-aligned,
//     element (m, kb) at kb * round_up(M, 4) + m.
//   B kTensor: 1 value; kChannel: N values; kBlock128: (ceil(N/128), K/128) row-major with
//     leading dimension round_up(K/128, 4).
std::int64_t scale_a_elems(ScaleModeA mode, std::int64_t m, std::int64_t k);
std::int64_t scale_b_elems(ScaleModeB mode, std::int64_t n, std::int64_t k);

enum class GemmBackend : std::uint8_t {
  kAuto,       // the fastest backend that supports the scale pair
  kCublasLt,   // the vendor baseline
  kReference,  // naive fp32 GPU kernel on CUDA cores: the oracle for shapes too large for the CPU
  kFp8kit,     // own Hopper WGMMA kernels (block-scaled first)
};
std::string_view gemm_backend_name(GemmBackend b);     // "auto", "cublaslt", "reference", "fp8kit"
GemmBackend parse_gemm_backend(std::string_view name);  // throws fp8kit::Error naming the value

struct ScaledMmOptions {
  GemmBackend backend = GemmBackend::kAuto;
  // Fast accumulation: the tensor cores accumulate all of K (cuBLASLt's CUBLASLT_MATMUL_DESC_FAST_ACCUM;
  // fp8kit's kernels named _fa). An explicit choice, recorded in every result; refused with block
  // scales, which need promotion. Off, every K block's sum reaches fp32 (exact on integer inputs).
  bool fast_accum = false;
  // B is a weight: no kernel enqueued just before this call writes it. Backend fp8kit then starts
  // loading B while that kernel still runs (programmatic launch; A waits for it), which hides much
  // of a decode GEMM's first weight fetch behind the activation quantization. linear() sets it.
  // Leave it off when the kernel before may write B: the GEMM could read B before that write.
  bool b_is_weight = false;
};

// Scale pairs a backend supports (each backend refuses the rest with a clear error):
//   reference: all nine; auto: all nine (cublaslt where it supports the pair and the bias dtype,
//   else reference); cublaslt: tensor x tensor, token x channel, token x tensor, tensor x channel,
//   group128 x block128 (bf16/fp16 out only: no fp32-out block-scaled kernel on Hopper; M % 4 == 0,
//   auto sends other M to the reference kernel);
//   fp8kit: all nine, any out dtype and bias dtype; the pairs without a group128 / block128 side
//   promote each K block with unit factors unless fast_accum (H200, K = 8192: fast accumulation
//   dropped 3.3e-4 of a sum the exact path kept; Llama-3.1-8B decode ran no slower exact).
bool backend_supports(GemmBackend backend, ScaleModeA a, ScaleModeB b);

// The backend `auto` picks for a pair, an out dtype and an optional bias dtype (never kAuto).
GemmBackend resolve_gemm_backend(GemmBackend requested, ScaleModeA a, ScaleModeB b, DType out,
                                 std::optional<DType> bias);

// D = A · Bᵀ on `stream` (DESIGN.md §3).
//   a: (M, K) E4M3, K-major (unit column stride, row stride >= K, 16-byte aligned rows)
//   b: (N, K) E4M3, K-major (the weight as stored)
//   scale_a / scale_b: fp32 device tensors in the layouts above (scale_a_elems / scale_b_elems)
//   out: (M, N) bf16, fp16 or fp32, row-major (row stride >= N)
//   bias: optional (N), contiguous, 16-byte aligned. reference: fp32, fp16 or bf16. cublaslt:
//     its FP8 epilogue table allows only bf16 for bf16 and fp32 out, fp16 for fp16 out.
// M = 0 does nothing. Allocates nothing on the hot path (descriptors and workspaces are cached per
// shape and stream), capturable in a CUDA graph, deterministic. Throws fp8kit::Error naming the
// argument and the rule for bad input or an unsupported pair.
void scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
               ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
               const std::optional<TensorView>& bias, cudaStream_t stream, const ScaledMmOptions& options = {});

// Where backend fp8kit finds `fp8kit tune`'s files; nullopt turns tuned configs off. Without this
// call: $FP8KIT_CONFIG_DIR ("none": off), else the configs shipped for this GPU (configs/<device
// name with '_' for ' '>/ next to the binary, installed, or in the source tree). A GEMM takes the
// config tuned at the nearest M (ties to the smaller) for its (N, K, out dtype, scale pair) on this
// GPU; without one, the built-in heuristic, with a one-time warning per shape when the directory
// was named. Files are read once per directory and each call signature's choice is remembered:
// files re-tuned while the process runs are seen after the next call of this function.
void set_gemm_config_dir(std::optional<std::filesystem::path> dir);

// The BF16/FP16 baseline: D = A · Bᵀ with A (M, K), B (N, K) in bf16 or fp16 (same dtype), out
// the input dtype or fp32, through cuBLASLt. Bias: the out dtype (cuBLASLt's rule). Same layout,
// alignment, caching and graph rules as scaled_mm.
void mm(const TensorView& a, const TensorView& b, const TensorView& out, const std::optional<TensorView>& bias,
        cudaStream_t stream);

// A linear layer with dynamic activation quantization (the "with quant" path of the benchmark):
// x (M, K) bf16/fp16 is quantized with `act` granularity (tensor: dynamic per-tensor; token:
// dynamic per-token; group128: 1x128 groups, column-major TMA-aligned scales), then
// out = scaled_mm(q, w, act, s, weight, w_scale). The quantized activations and their scales live
// in a caller-provided device workspace of at least linear_workspace_bytes(M, K, act) bytes
// (16-byte aligned), so nothing is allocated on the hot path.
struct LinearStrategy {
  ScaleModeA act = ScaleModeA::kToken;
  ScaleModeB weight = ScaleModeB::kChannel;
};
std::size_t linear_workspace_bytes(std::int64_t m, std::int64_t k, ScaleModeA act);
void linear(const TensorView& x, const TensorView& w, const TensorView& w_scale, const LinearStrategy& strategy,
            const TensorView& out, const std::optional<TensorView>& bias, const TensorView& workspace,
            cudaStream_t stream, const ScaledMmOptions& options = {}, const QuantizeOptions& quant_options = {});

}  // namespace fp8kit
