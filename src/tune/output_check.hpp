// How the tuner decides that a candidate's output is right: compared with the reference backend's
// output on identical inputs, norm-wise. Both round to the out dtype independently, so rounding
// flips cost up to one ulp per element; a wrong tile, scale or K slice costs O(1). Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "fp8kit/types.hpp"

namespace fp8kit::tune {

// bfloat16 8e-3 (2 ulp), float16 2e-3, float32 1e-3 (the tensor core's ~13-bit accumulator).
double tuner_verify_tolerance(DType out);

// nullopt when `got` agrees with `expected` (both (rows, cols) row-major in `out`): every element
// finite and ||got - expected|| / ||expected|| below the tolerance; else a message naming the first
// non-finite element or the error and the worst element.
std::optional<std::string> compare_gemm_outputs(std::span<const std::byte> expected, std::span<const std::byte> got,
                                                DType out, std::int64_t rows, std::int64_t cols);

}  // namespace fp8kit::tune
