// fp8kit::quantize on the GPU equals the CPU reference bit for bit (DESIGN.md §3): every mode x
// layout x dtype x option x implementation, on random and adversarial data, with row strides,
// misaligned rows, M = 0/1, M not a multiple of 4; outputs poisoned before each run; each case run
// twice; the kernels of large grids also on small, ragged shapes. Launch behaviour (graphs, PDL)
// and bad input: test_quantize_launch_gpu.cpp. Speed: `fp8kit bench quant`, docs/PERF.md.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ops/quant_plan.hpp"
#include "quant_cases.hpp"

namespace fp8kit {
namespace {

using namespace quant_test;

std::vector<QuantSpec> all_specs() {
  std::vector<QuantSpec> specs;
  for (bool ue8m0 : {false, true}) {
    for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerChannel, Granularity::kBlock128}) {
      QuantSpec s = spec_of(g);
      s.ue8m0 = ue8m0;
      specs.push_back(s);
    }
    QuantSpec ub = spec_of(Granularity::kPerToken);
    ub.ue8m0 = ue8m0;
    ub.scale_ub = 3.5f;
    specs.push_back(ub);
    for (int g : {32, 64, 128}) {
      for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
        QuantSpec s = spec_of(Granularity::kPerGroup, g, l);
        s.ue8m0 = ue8m0;
        specs.push_back(s);
      }
    }
  }
  for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken}) {
    QuantSpec s = spec_of(g);
    s.static_scales = true;
    specs.push_back(s);
  }
  for (int g : {32, 128}) {
    for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
      QuantSpec s = spec_of(Granularity::kPerGroup, g, l);
      s.static_scales = true;
      specs.push_back(s);
    }
  }
  return specs;
}

// Shapes per granularity. Each shape runs in two of the four layouts of x and q (see the mode
// test): even positions contiguous and padded-aligned, odd ones unaligned rows and a misaligned
// base. Per-tensor: one launch (cluster 1 at 896 and 2048, 8 at 16 x 4096 and 16 x 7168), two
// passes (37 x 4096; 5 x 1001 aligned with K % 8 != 0). Per-token: a warp a row (chunks 1/2/4 at
// 200/512/1016), a block a row (4 and 8 chunks a thread, 128 to 512 threads), two reads (K % 8 != 0
// aligned at 1001, unaligned at 1003 and 20001; rows beyond registers at 40000). Per-group: partial
// runs, TMA padding rows, several rows a block. 128x128: ragged edges. M not a multiple of 4.
std::vector<Shape> shapes_for(const QuantSpec& s) {
  switch (s.granularity) {
    case Granularity::kPerTensor:
      return {{1, 896}, {5, 1003}, {37, 4096}, {1, 7}, {16, 7168}, {2, 9}, {3, 2048}, {7, 33}, {16, 4096}, {4, 1001}, {5, 1001}};
    case Granularity::kPerToken:
    case Granularity::kPerChannel:
      return {{1, 200}, {5, 512}, {7, 1016}, {9, 1003}, {3, 4096},  {6, 7168},
              {2, 12290}, {4, 16000}, {3, 32000}, {2, 20001}, {2, 40000}, {6, 2050}, {3, 1001}};
    case Granularity::kPerGroup:
      return {{1, 384}, {5, 384}, {37, 1024}, {130, 896}};
    case Granularity::kBlock128:
      return {{1, 100}, {130, 260}, {300, 1003}, {256, 512}};
  }
  return {};
}

TEST(QuantizeGpu, EveryModeLayoutDtypeAndImplIsBitExact) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize modes");
  std::mt19937_64 seeds(seed);
  int cases = 0;
  for (const QuantSpec& spec : all_specs()) {
    for (DType d : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
      for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
        int variant = 0;
        for (const Shape& sh : shapes_for(spec)) {
          for (Data data : {Data::kRandom, Data::kAdversarial}) {
            Case c{.dtype = d, .rows = sh.rows, .cols = sh.cols, .spec = spec, .impl = impl, .data = data};
            // Rotate the layouts of x and q: contiguous, padded aligned rows, unaligned rows,
            // misaligned base.
            switch (variant++ % 4) {
              case 1:  // padded rows that start 16-byte aligned, also where K % 8 != 0
                c.x_pad = (8 - c.cols % 8) % 8 + 8;
                c.q_pad = (8 - c.cols % 8) % 8 + 16;
                break;
              case 2: c.x_pad = 3; c.q_pad = 5; break;
              case 3: c.x_shift = 1; break;
              default: break;
            }
            run_case(c, seeds(), stream);
            if (HasFatalFailure()) return;
            ++cases;
          }
        }
      }
    }
  }
  std::printf("%d cases bit-exact\n", cases);
}

TEST(QuantizeGpu, LargeShapesAreBitExact) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize large");
  std::mt19937_64 seeds(seed);
  const std::int64_t m = sanitized() ? 512 : 4096;
  std::vector<QuantSpec> specs = {spec_of(Granularity::kPerToken), spec_of(Granularity::kPerTensor),
                                  spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned),
                                  spec_of(Granularity::kPerGroup, 64, ScaleLayout::kRowMajor), spec_of(Granularity::kBlock128)};
  specs[2].ue8m0 = true;
  for (const QuantSpec& spec : specs) {
    for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
      Case c;
      c.dtype = DType::kBFloat16;
      c.rows = spec.granularity == Granularity::kBlock128 ? 7168 : m;
      c.cols = 7168;
      c.spec = spec;
      c.impl = impl;
      if (sanitized() && spec.granularity == Granularity::kBlock128) c.rows = 1000;
      run_case(c, seeds(), stream);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(QuantizeGpu, EmptyInputWritesNothing) {
  cuda::Stream stream;
  for (const QuantSpec& spec : {spec_of(Granularity::kPerToken), spec_of(Granularity::kPerTensor),
                                spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned)}) {
    for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
      Case c;
      c.rows = 0;
      c.cols = 512;
      c.spec = spec;
      c.impl = impl;
      run_case(c, 1, stream);
    }
  }
}

std::string plan_names(const ops::QuantPlan& plan) {
  std::string n;
  for (int i = 0; i < plan.launch_count; ++i) {
    const ops::QuantLaunch& l = plan.launches[static_cast<std::size_t>(i)];
    n += fmt::format("{}{}[{}x{}]", i ? " + " : "", ops::kernel_name(l.config), l.grid_x * l.grid_y, l.threads);
  }
  return n;
}

// The planner picks runs of 4, row blocks and 8 chunks a thread only for grids that fill the GPU,
// which the mode test's small shapes never reach, and the small-grid kernels only for small
// problems. Planned for 1 SM and for 2^20 SMs, every such kernel runs here on small, ragged shapes
// (partial runs, TMA padding rows, idle lanes in the last chunk slot, several rows a block),
// against the CPU reference.
TEST(QuantizeGpu, LargeAndSmallGridKernelsAreBitExactOnSmallShapes) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize grids");
  std::mt19937_64 rng(seed);
  std::vector<QuantSpec> specs = {spec_of(Granularity::kPerToken), spec_of(Granularity::kPerTensor)};
  for (int g : {32, 64, 128}) {
    for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
      specs.push_back(spec_of(Granularity::kPerGroup, g, l));
    }
  }
  specs[2].ue8m0 = true;
  int plans = 0;
  for (const QuantSpec& spec : specs) {
    std::vector<Shape> shapes = {{5, 384}, {37, 1024}, {130, 896}, {6, 7168}, {3, 32000}};
    if (spec.granularity == Granularity::kPerGroup) shapes.back() = {4099, 384};  // a partial last block
    for (const Shape& sh : shapes) {
      for (DType d : {DType::kBFloat16, DType::kFloat32}) {
        for (Data data : {Data::kRandom, Data::kAdversarial}) {
          const Case c{.dtype = d, .rows = sh.rows, .cols = sh.cols, .spec = spec, .data = data};
          SCOPED_TRACE(c.describe());
          const HostInput in = make_input(c, rng);
          const ref::QuantOutput want = ref::quantize(in.bytes.data(), c.dtype, c.rows, c.cols, c.cols, spec);
          cuda::DeviceBuffer dx(in.bytes.size()), dq(static_cast<std::size_t>(c.rows * c.cols)),
              ds(static_cast<std::size_t>(want.geometry.alloc_elems) * 4);
          dx.upload(in.bytes.data(), in.bytes.size());
          ops::QuantProblem pr;
          pr.input = c.dtype;
          pr.rows = c.rows;
          pr.cols = pr.x_ld = pr.q_ld = c.cols;
          pr.spec = spec;
          for (int sms : {1, 1 << 20}) {
            ops::QuantPlan plan = ops::plan_quantize(pr, sms);
            plan.params.x = dx.data();
            plan.params.q = static_cast<std::uint8_t*>(dq.data());
            plan.params.scales = static_cast<float*>(ds.data());
            SCOPED_TRACE(plan_names(plan));
            dq.fill_bytes(0xFF);
            ds.fill_bytes(0xFF);
            FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
            ops::launch_quant_plan(plan, stream.get(), true);
            FP8KIT_CUDA_CHECK(cudaGetLastError());
            stream.synchronize();
            std::int64_t bad = 0;
            const std::string qm = first_q_mismatch(dq.download_all<std::uint8_t>(), want.q, c.rows, c.cols, c.cols, &bad);
            ASSERT_EQ(bad, 0) << bad << " q bytes differ; first " << qm << " (seed " << seed << ")";
            const std::string sm = first_scale_mismatch(ds.download_all<float>(), want.scales, want.geometry);
            ASSERT_TRUE(sm.empty()) << sm << " (seed " << seed << ")";
            ++plans;
          }
        }
      }
    }
  }
  std::printf("%d plans bit-exact\n", plans);
}

}  // namespace
}  // namespace fp8kit
