// The cold-read kernel's parameter (read.cuh). Host-clean: src/bench/cold_read.cpp includes this
// same header to fill it.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

struct ReadParams {
  const Vec16* src;
  u64 vectors;     // 16-byte vectors to read
  u32* block_xor;  // gridDim.x words: the XOR of every 32-bit word each block read
};

}  // namespace fp8kit
