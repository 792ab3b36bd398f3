// fp8kit's ops as TVM-FFI functions (loaded by python/fp8kit/_lib.py). Each checks its arguments'
// dtypes (TypeError) and devices (ValueError) and then calls the C++ API, whose own checks raise
// ValueError naming the argument and the rule, all before anything is launched.
#include <tvm/ffi/tvm_ffi.h>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/ref_quant.hpp"
#include "ffi_convert.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "fp8kit/version.hpp"

namespace fp8kit::python {
namespace {

namespace ffi = tvm::ffi;

std::string_view text(const ffi::String& s) { return {s.data(), s.size()}; }

constexpr std::initializer_list<DType> kFloats = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

QuantSpec quant_spec(const ffi::String& granularity, std::int64_t group_size, const ffi::String& layout, bool ue8m0,
                     const ffi::Optional<double>& scale_ub, bool static_scales) {
  QuantSpec spec;
  spec.granularity = parse_granularity(text(granularity));
  spec.group_size = static_cast<int>(group_size);
  spec.layout = parse_layout(text(layout));
  spec.ue8m0 = ue8m0;
  if (scale_ub.has_value()) spec.scale_ub = static_cast<float>(*scale_ub);
  spec.static_scales = static_scales;
  return spec;
}

void quantize_ffi(ffi::TensorView x, ffi::TensorView q, ffi::TensorView scales, ffi::String granularity,
                  std::int64_t group_size, ffi::String layout, bool ue8m0, ffi::Optional<double> scale_ub,
                  bool static_scales, ffi::String impl, bool programmatic_launch, std::int64_t raw_stream) {
  const TensorView xv = dlpack_view(x, "x", kFloats);
  const TensorView qv = dlpack_view(q, "q", {DType::kE4M3});
  const TensorView sv = dlpack_view(scales, "scales", {DType::kFloat32});
  run_on_device(common_device({{&x, "x"}, {&q, "q"}, {&scales, "scales"}}), raw_stream, [&](cudaStream_t stream) {
    QuantizeOptions options;
    options.impl = parse_quant_impl(text(impl));
    options.programmatic_launch = programmatic_launch;
    quantize(xv, qv, sv, quant_spec(granularity, group_size, layout, ue8m0, scale_ub, static_scales), stream, options);
  });
}

void prepare_block_scales_ffi(ffi::TensorView scales_in, ffi::TensorView scales_out, std::int64_t raw_stream) {
  const TensorView in = dlpack_view(scales_in, "scales_in", {DType::kFloat32});
  const TensorView out = dlpack_view(scales_out, "scales_out", {DType::kFloat32});
  run_on_device(common_device({{&scales_in, "scales_in"}, {&scales_out, "scales_out"}}), raw_stream,
                [&](cudaStream_t stream) { prepare_block_scales(in, out, stream); });
}

ScaledMmOptions mm_options(const ffi::String& backend, bool fast_accum, bool b_is_weight = false) {
  ScaledMmOptions o;
  o.backend = parse_gemm_backend(text(backend));
  o.fast_accum = fast_accum;
  o.b_is_weight = b_is_weight;
  return o;
}

void scaled_mm_ffi(ffi::TensorView a, ffi::TensorView b, ffi::String mode_a, ffi::TensorView scale_a,
                   ffi::String mode_b, ffi::TensorView scale_b, ffi::TensorView out,
                   ffi::Optional<ffi::TensorView> bias, ffi::String backend, bool fast_accum, bool b_is_weight,
                   std::int64_t raw_stream) {
  const TensorView av = dlpack_view(a, "a", {DType::kE4M3}), bv = dlpack_view(b, "b", {DType::kE4M3});
  const TensorView sa = dlpack_view(scale_a, "scale_a", {DType::kFloat32});
  const TensorView sb = dlpack_view(scale_b, "scale_b", {DType::kFloat32});
  const TensorView ov = dlpack_view(out, "out", kFloats);
  std::optional<TensorView> biasv;
  if (bias.has_value()) biasv = dlpack_view(*bias, "bias", kFloats);
  const ffi::TensorView* bias_arg = bias.has_value() ? &*bias : nullptr;
  const int device = common_device(
      {{&a, "a"}, {&b, "b"}, {&scale_a, "scale_a"}, {&scale_b, "scale_b"}, {&out, "out"}, {bias_arg, "bias"}});
  run_on_device(device, raw_stream, [&](cudaStream_t stream) {
    scaled_mm(av, bv, parse_mode_a(text(mode_a)), sa, parse_mode_b(text(mode_b)), sb, ov,
              biasv, stream, mm_options(backend, fast_accum, b_is_weight));
  });
}

void linear_ffi(ffi::TensorView x, ffi::TensorView w, ffi::TensorView w_scale, ffi::String act, ffi::String weight,
                ffi::TensorView out, ffi::Optional<ffi::TensorView> bias, ffi::TensorView workspace,
                ffi::String backend, bool fast_accum, std::int64_t raw_stream) {
  const TensorView xv = dlpack_view(x, "x", {DType::kFloat16, DType::kBFloat16});
  const TensorView wv = dlpack_view(w, "w", {DType::kE4M3});
  const TensorView sv = dlpack_view(w_scale, "w_scale", {DType::kFloat32});
  const TensorView ov = dlpack_view(out, "out", kFloats);
  const TensorView ws = dlpack_view(workspace, "workspace", {DType::kE4M3});
  std::optional<TensorView> biasv;
  if (bias.has_value()) biasv = dlpack_view(*bias, "bias", kFloats);
  const ffi::TensorView* bias_arg = bias.has_value() ? &*bias : nullptr;
  const int device = common_device({{&x, "x"}, {&w, "w"}, {&w_scale, "w_scale"}, {&out, "out"},
                                    {&workspace, "workspace"}, {bias_arg, "bias"}});
  run_on_device(device, raw_stream, [&](cudaStream_t stream) {
    const LinearStrategy strategy{parse_mode_a(text(act)), parse_mode_b(text(weight))};
    linear(xv, wv, sv, strategy, ov, biasv, ws, stream, mm_options(backend, fast_accum));
  });
}

// fn() with fp8kit::Error raised as the Python exception it stands for (calls that need no device).
template <class Fn>
auto checked(Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    rethrow_as_python(e);
  }
}

// The CPU reference quantizer (src/core/ref_quant.cpp), the oracle of the package's GPU tests:
// x (rows, cols) host array, q (rows * cols) E4M3 bytes and scales (alloc_elems) written.
void quantize_reference_ffi(ffi::TensorView x, ffi::TensorView q, ffi::TensorView scales, ffi::String granularity,
                            std::int64_t group_size, ffi::String layout, bool ue8m0, ffi::Optional<double> scale_ub) {
  const TensorView xv = host_view(x, "x", kFloats);
  const TensorView qv = host_view(q, "q", {DType::kE4M3});
  const TensorView sv = host_view(scales, "scales", {DType::kFloat32});
  checked([&] {
    const ref::QuantOutput r =
        ref::quantize(xv, quant_spec(granularity, group_size, layout, ue8m0, scale_ub, false));
    if (!qv.is_contiguous() || qv.numel() != static_cast<std::int64_t>(r.q.size()) || !sv.is_contiguous() ||
        sv.numel() != static_cast<std::int64_t>(r.scales.size())) {
      throw_invalid_argument(fmt::format("quantize_reference: q must hold {} contiguous bytes and scales {} values",
                                         r.q.size(), r.scales.size()));
    }
    std::memcpy(qv.data, r.q.data(), r.q.size());
    std::memcpy(sv.data, r.scales.data(), r.scales.size() * sizeof(float));
    return 0;
  });
}

// The CPU-side rules, for the Python package's shape functions and their tests.
ffi::Array<std::int64_t> scale_geometry_ffi(ffi::String granularity, std::int64_t group_size, ffi::String layout,
                                            std::int64_t rows, std::int64_t cols) {
  return checked([&] {
    const ScaleGeometry g =
        scale_geometry(quant_spec(granularity, group_size, layout, false, std::nullopt, false), rows, cols);
    return ffi::Array<std::int64_t>({g.rows, g.cols, g.row_stride, g.col_stride, g.alloc_elems});
  });
}

std::int64_t scale_a_elems_ffi(ffi::String mode, std::int64_t m, std::int64_t k) {
  return checked([&] { return scale_a_elems(parse_mode_a(text(mode)), m, k); });
}

std::int64_t scale_b_elems_ffi(ffi::String mode, std::int64_t n, std::int64_t k) {
  return checked([&] { return scale_b_elems(parse_mode_b(text(mode)), n, k); });
}

std::int64_t linear_workspace_bytes_ffi(std::int64_t m, std::int64_t k, ffi::String act) {
  return checked([&] {
    return static_cast<std::int64_t>(linear_workspace_bytes(m, k, parse_mode_a(text(act))));
  });
}

void set_config_dir_ffi(ffi::Optional<ffi::String> dir) {
  checked([&] {
    set_gemm_config_dir(dir.has_value() ? std::optional<std::filesystem::path>(std::string(*dir)) : std::nullopt);
    return 0;
  });
}

ffi::String build_info_ffi() {
  return ffi::String(std::string(version()) + " " + std::string(git_revision()) + " " + std::string(build_type()));
}

}  // namespace
}  // namespace fp8kit::python

TVM_FFI_DLL_EXPORT_TYPED_FUNC(quantize, fp8kit::python::quantize_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(prepare_block_scales, fp8kit::python::prepare_block_scales_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(scaled_mm, fp8kit::python::scaled_mm_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(linear, fp8kit::python::linear_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(quantize_reference, fp8kit::python::quantize_reference_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(scale_geometry, fp8kit::python::scale_geometry_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(scale_a_elems, fp8kit::python::scale_a_elems_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(scale_b_elems, fp8kit::python::scale_b_elems_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(linear_workspace_bytes, fp8kit::python::linear_workspace_bytes_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(set_config_dir, fp8kit::python::set_config_dir_ffi);
TVM_FFI_DLL_EXPORT_TYPED_FUNC(build_info, fp8kit::python::build_info_ffi);
