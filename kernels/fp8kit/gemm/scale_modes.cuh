// Scale modes as template parameters of every GEMM kernel (the reference and the sm90 kernel);
// values mirror fp8kit::ScaleModeA / ScaleModeB, and src/ops/gemm_kernels.cpp spells them.
#pragma once

namespace fp8kit {

enum GemmScaleA : int { kGemmScaleATensor = 0, kGemmScaleAToken = 1, kGemmScaleAGroup128 = 2 };
enum GemmScaleB : int { kGemmScaleBTensor = 0, kGemmScaleBChannel = 1, kGemmScaleBBlock128 = 2 };

}  // namespace fp8kit
