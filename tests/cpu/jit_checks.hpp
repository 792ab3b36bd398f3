// Checks shared by the CPU tests that compile GEMM-shaped kernels under NVRTC: strict options (a
// private cache, spills are errors) and the ptxas warnings that mean a Hopper feature was lost.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/test_util.hpp"
#include "jit/nvrtc_compile.hpp"
#include "jit/options.hpp"

namespace fp8kit::jit {

inline JitOptions strict_options(const test::TempDir& dir) {
  JitOptions o;
  o.cache_dir = dir.path();
  o.fail_on_spill = true;
  return o;
}

inline void expect_no_lost_features(const CompiledKernel& k) {
  EXPECT_EQ(k.log.find("C7508"), std::string::npos) << k.name << ": setmaxnreg ignored\n" << k.log;
  EXPECT_EQ(k.log.find("serialized"), std::string::npos) << k.name << ": wgmma serialized (C7511...)\n" << k.log;
  // C7517/C7519: ptxas had to insert warpgroup.wait/arrive because accumulators were touched
  // between fence and wait: the protocol in the wrapper's comment was broken.
  EXPECT_EQ(k.log.find("is injected"), std::string::npos) << k.name << ": wgmma protocol repaired\n" << k.log;
}

}  // namespace fp8kit::jit
