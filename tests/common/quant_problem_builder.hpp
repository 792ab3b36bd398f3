// Quantization specs and problems for the quantization kernels' CPU tests (test_quant_kernels.cpp,
// test_quant_plan.cpp).
#pragma once

#include <cstdint>

#include "ops/quant_plan.hpp"

namespace fp8kit::test {

using ops::QuantProblem;

inline QuantSpec spec_of(Granularity g) {
  QuantSpec s;
  s.granularity = g;
  return s;
}
inline QuantSpec token() { return spec_of(Granularity::kPerToken); }
inline QuantSpec group(int g, ScaleLayout layout) {
  QuantSpec s = spec_of(Granularity::kPerGroup);
  s.group_size = g;
  s.layout = layout;
  return s;
}

inline QuantProblem problem(std::int64_t rows, std::int64_t cols, QuantSpec spec, DType dtype = DType::kBFloat16,
                            QuantImpl impl = QuantImpl::kFp8kit) {
  QuantProblem p;
  p.input = dtype;
  p.rows = rows;
  p.cols = cols;
  p.x_ld = cols;
  p.q_ld = cols;
  p.spec = spec;
  p.impl = impl;
  return p;
}

}  // namespace fp8kit::test
