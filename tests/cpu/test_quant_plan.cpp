// The quantization planner without a GPU: which kernels, grids and passes it picks per
// granularity, row length, layout and SM count.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/quant_problem_builder.hpp"
#include "ops/quant_kernels.hpp"
#include "ops/quant_plan.hpp"

namespace fp8kit::ops {
namespace {

using test::group;
using test::problem;
using test::spec_of;
using test::token;

std::string first(const QuantProblem& p, int sm_count = 132) {
  return kernel_name(plan_quantize(p, sm_count).launches[0].config);
}

TEST(QuantPlan, PerTokenKernelsByRowLength) {
  // A warp a row up to 1024 elements: 8 rows a block, or one where there are no more rows than SMs.
  EXPECT_EQ(first(problem(16, 896, token())), "quant_token_warp_bf16_vec_t32_c4");
  EXPECT_EQ(first(problem(16, 200, token(), DType::kFloat16)), "quant_token_warp_f16_vec_t32_c1");
  EXPECT_EQ(first(problem(133, 896, token())), "quant_token_warp_bf16_vec_t256_c4");
  EXPECT_EQ(plan_quantize(problem(137, 512, token()), 132).launches[0].grid_x, 18u);
  EXPECT_EQ(plan_quantize(problem(17, 512, token()), 132).launches[0].grid_x, 17u);
  // Then a block a row, as wide as the row needs: 896 chunks of 8 = 128 threads x 7 (of 8).
  EXPECT_EQ(first(problem(4096, 7168, token())), "quant_token_block_bf16_vec_t512_c8");
  EXPECT_EQ(first(problem(4096, 7168, token(), DType::kFloat32)), "quant_token_block_f32_vec_t512_c4");
  EXPECT_EQ(first(problem(8192, 4096, token())), "quant_token_block_bf16_vec_t512_c4");
  EXPECT_EQ(first(problem(3, 4096, token(), DType::kFloat32)), "quant_token_block_f32_vec_t512_c4");
  const QuantPlan b = plan_quantize(problem(4096, 7168, token()), 132);
  EXPECT_EQ(b.launches[0].grid_x, 4096u);
  EXPECT_EQ(b.launches[0].threads, 128u);
  EXPECT_EQ(first(problem(2, 32768, token())), "quant_token_block_bf16_vec_t512_c8");  // 4 a thread would need 1024
  EXPECT_EQ(plan_quantize(problem(2, 32768, token()), 132).launches[0].threads, 512u);
  EXPECT_EQ(first(problem(2, 16384, token())), "quant_token_block_bf16_vec_t512_c4");
  // Fewer rows than SMs: 2 chunks a thread where 512 threads hold the row, else 4.
  EXPECT_EQ(first(problem(16, 7168, token())), "quant_token_block_bf16_vec_t512_c2");
  EXPECT_EQ(first(problem(131, 7168, token())), "quant_token_block_bf16_vec_t512_c2");
  EXPECT_EQ(first(problem(16, 7168, token(), DType::kFloat16)), "quant_token_block_f16_vec_t512_c2");
  EXPECT_EQ(first(problem(16, 12288, token())), "quant_token_block_bf16_vec_t512_c4");
  EXPECT_EQ(first(problem(132, 7168, token())), "quant_token_block_bf16_vec_t512_c8");
  // Rows beyond registers: two reads.
  EXPECT_EQ(first(problem(2, 40000, token())), "quant_token_two_pass_bf16_vec_t512_c4");
}

TEST(QuantPlan, RaggedAndUnalignedRowsTakeTheTwoReadKernel) {
  // K not a multiple of 8: the vector path handles the ragged tail; a narrow block up to 128 x 4 chunks.
  QuantProblem ragged = problem(9, 1003, token());
  ragged.x_ld = ragged.q_ld = 1008;
  EXPECT_EQ(first(ragged), "quant_token_two_pass_bf16_vec_t128_c4");
  ragged.cols = 4100;
  ragged.x_ld = ragged.q_ld = 4104;
  EXPECT_EQ(first(ragged), "quant_token_two_pass_bf16_vec_t512_c4");
  // Unaligned rows or base: the scalar path.
  QuantProblem odd = problem(5, 1000, token());
  odd.x_ld = 1001;
  EXPECT_EQ(first(odd), "quant_token_two_pass_bf16_scalar_t128_c4");
  QuantProblem misaligned = problem(4, 1024, token());
  misaligned.x_aligned16 = false;
  EXPECT_EQ(first(misaligned), "quant_token_two_pass_bf16_scalar_t128_c4");
  QuantProblem group_misaligned = problem(4, 1024, group(64, ScaleLayout::kRowMajor));
  group_misaligned.x_aligned16 = false;
  EXPECT_EQ(first(group_misaligned), "quant_group64_ragged_groupsfast_bf16_scalar_t256_c2");
}

TEST(QuantPlan, PerGroupRunsOrderAndTinyGrids) {
  const QuantPlan g4 = plan_quantize(problem(4096, 7168, group(128, ScaleLayout::kRowMajor)), 132);
  EXPECT_EQ(kernel_name(g4.launches[0].config), "quant_group128_runs_groupsfast_bf16_vec_t256_c4");
  EXPECT_EQ(g4.launches[0].items, 4096u * 14u);  // 56 groups a row, runs of 4
  EXPECT_EQ(g4.launches[0].grid_x, 4096u * 14u / 16u);
  EXPECT_EQ(first(problem(4096, 992, group(32, ScaleLayout::kRowMajor))), "quant_group32_runs_groupsfast_bf16_vec_t256_c4");
  // Column-major scales: row blocks with runs of 4 for G >= 64 (fp32: 2); G = 32 keeps the column order.
  EXPECT_EQ(first(problem(4096, 4096, group(64, ScaleLayout::kColMajor))), "quant_group64_runs_rowblocks_bf16_vec_t256_c4");
  EXPECT_EQ(first(problem(4096, 4096, group(32, ScaleLayout::kColMajor))), "quant_group32_runs_rowsfast_bf16_vec_t256_c4");
  EXPECT_EQ(first(problem(4096, 4096, group(128, ScaleLayout::kColMajor), DType::kFloat32)), "quant_group128_runs_rowblocks_f32_vec_t256_c2");
  EXPECT_FALSE(plan_quantize(problem(4096, 7168, group(128, ScaleLayout::kRowMajor)), 132).launches[0].config.row_blocks);
  // Tiny: runs of 1 in 128-thread blocks still give at most one block an SM (16 x 7168, G = 128:
  // 16 rows x 56 groups / 8 a block = 112 blocks instead of 28); 64 rows would give 448: runs of 2.
  EXPECT_EQ(first(problem(8, 1024, group(64, ScaleLayout::kRowMajor))), "quant_group64_runs_groupsfast_bf16_vec_t128_c1");
  EXPECT_EQ(first(problem(37, 992, group(32, ScaleLayout::kRowMajor))), "quant_group32_runs_groupsfast_bf16_vec_t128_c1");
  EXPECT_EQ(first(problem(16, 4096, group(128, ScaleLayout::kColMajorTmaAligned))), "quant_group128_runs_rowsfast_bf16_vec_t128_c1");
  const QuantPlan tiny = plan_quantize(problem(16, 7168, group(128, ScaleLayout::kRowMajor)), 132);
  EXPECT_EQ(kernel_name(tiny.launches[0].config), "quant_group128_runs_groupsfast_bf16_vec_t128_c1");
  EXPECT_EQ(tiny.launches[0].grid_x, 112u);
  EXPECT_EQ(first(problem(64, 7168, group(128, ScaleLayout::kRowMajor))), "quant_group128_runs_groupsfast_bf16_vec_t256_c2");
  // Small (runs of 8 would give fewer blocks than SMs): runs of 2 in 256 threads (262 x 8192,
  // G = 128: 262 x 8 runs of 8 / 16 = 131 blocks).
  EXPECT_EQ(first(problem(263, 8192, group(128, ScaleLayout::kColMajor))), "quant_group128_runs_rowblocks_bf16_vec_t256_c4");
  EXPECT_EQ(first(problem(262, 8192, group(128, ScaleLayout::kColMajor))), "quant_group128_runs_rowsfast_bf16_vec_t256_c2");
  // TMA-aligned column-major: the padding rows are work items too (they write the 0 scales).
  const QuantPlan tma = plan_quantize(problem(5, 256, group(128, ScaleLayout::kColMajorTmaAligned)), 132);
  ASSERT_EQ(tma.launch_count, 1);
  EXPECT_EQ(tma.launches[0].items, 8u * 2u);  // 8 padded rows x 2 runs of 1 group (tiny)
  EXPECT_EQ(tma.params.scale_rows_pad, 8);
  EXPECT_EQ(tma.params.s_cs, 8);
}

// A 1-SM plan of a small problem takes the kernels of grids that fill the GPU (the GPU tests run
// them that way on small, ragged shapes); a huge SM count takes the small-grid ones.
TEST(QuantPlan, TheSmCountChoosesBetweenLargeAndSmallGridKernels) {
  EXPECT_EQ(first(problem(16, 7168, token()), 1), "quant_token_block_bf16_vec_t512_c8");
  EXPECT_EQ(first(problem(16, 896, token()), 1), "quant_token_warp_bf16_vec_t256_c4");
  EXPECT_EQ(first(problem(5, 384, group(128, ScaleLayout::kColMajor)), 1), "quant_group128_runs_rowblocks_bf16_vec_t256_c4");
  EXPECT_EQ(first(problem(4096, 7168, group(128, ScaleLayout::kColMajor)), 1 << 20), "quant_group128_runs_rowsfast_bf16_vec_t128_c1");
}

TEST(QuantPlan, PerTensorOneLaunchOrTwoPasses) {
  const QuantSpec tensor = spec_of(Granularity::kPerTensor);
  const QuantPlan pt = plan_quantize(problem(4096, 4096, tensor), 132);
  EXPECT_TRUE(pt.zero_scale0);
  ASSERT_EQ(pt.launch_count, 2);
  EXPECT_EQ(kernel_name(pt.launches[0].config), "quant_tensor_amax_bf16_vec_t256_c4");
  EXPECT_EQ(kernel_name(pt.launches[1].config), "quant_cast_tensordyn_bf16_vec_t256_c4");
  EXPECT_LE(pt.launches[0].grid_x, 132u * 8u);
  QuantProblem unaligned_tensor = problem(4096, 4096, tensor);
  unaligned_tensor.x_aligned16 = false;  // the same two passes, scalar
  EXPECT_EQ(kernel_name(plan_quantize(unaligned_tensor, 132).launches[1].config), "quant_cast_tensordyn_bf16_scalar_t256_c4");
  // Small tensors: one launch, no zeroing; one CTA up to 2048 chunks, then a cluster of 8.
  const QuantPlan one = plan_quantize(problem(1, 896, tensor), 132);
  EXPECT_FALSE(one.zero_scale0);
  ASSERT_EQ(one.launch_count, 1);
  EXPECT_EQ(kernel_name(one.launches[0].config), "quant_tensor_one_launch_bf16_vec_t512_c1_k1");
  EXPECT_EQ(one.launches[0].threads, 128u);  // 112 chunks
  EXPECT_EQ(one.launches[0].grid_x, 1u);
  const QuantPlan c8 = plan_quantize(problem(16, 4096, tensor), 132);
  EXPECT_EQ(kernel_name(c8.launches[0].config), "quant_tensor_one_launch_bf16_vec_t512_c2_k8");
  EXPECT_EQ(c8.launches[0].grid_x, 8u);
  EXPECT_EQ(c8.launches[0].threads, 512u);
  EXPECT_EQ(plan_quantize(problem(18, 7680, tensor), 132).launch_count, 2);  // 16 x 960 chunks fit 8 x 512 x 4, 18 x 960 do not
  EXPECT_EQ(plan_quantize(problem(16, 7680, tensor), 132).launch_count, 1);
}

TEST(QuantPlan, NaiveStaticAndBlockPlans) {
  const QuantPlan naive = plan_quantize(problem(64, 512, group(32, ScaleLayout::kColMajor), DType::kFloat16, QuantImpl::kNaive), 132);
  ASSERT_EQ(naive.launch_count, 3);
  EXPECT_EQ(kernel_name(naive.launches[0].config), "quant_naive_amax_warpcell_f16_t256");
  EXPECT_EQ(kernel_name(naive.launches[1].config), "quant_naive_scale_t256");
  EXPECT_EQ(kernel_name(naive.launches[2].config), "quant_naive_cast_f16_t256");
  QuantSpec st = group(128, ScaleLayout::kRowMajor);
  st.static_scales = true;
  const QuantPlan sp = plan_quantize(problem(64, 512, st), 132);
  ASSERT_EQ(sp.launch_count, 1);
  EXPECT_EQ(kernel_name(sp.launches[0].config), "quant_cast_group128_bf16_vec_t256_c4");
  const QuantPlan bp = plan_quantize(problem(300, 1000, spec_of(Granularity::kBlock128)), 132);
  EXPECT_EQ(bp.launches[0].grid_x, 8u);
  EXPECT_EQ(bp.launches[0].grid_y, 3u);
  EXPECT_EQ(bp.params.scale_cols_pad, 8);
}

// The list is exactly what the planner picks over a sweep of shapes, alignments and SM counts: a
// planned kernel that is not listed would compile on a user's first call instead of in CI, and a
// listed one never planned is dead code that CI compiles.
TEST(QuantPlan, TheListIsExactlyWhatThePlannerPicks) {
  std::map<std::uint64_t, std::string> listed, planned;
  for (const auto& c : all_quant_kernel_configs()) listed[c.key()] = kernel_name(c);
  std::vector<QuantSpec> specs;
  for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerChannel, Granularity::kBlock128}) {
    for (bool st : {false, true}) {
      QuantSpec s = spec_of(g);
      s.static_scales = st && g != Granularity::kPerChannel && g != Granularity::kBlock128;
      specs.push_back(s);
    }
  }
  for (int gs : {32, 64, 128}) {
    for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
      for (bool st : {false, true}) {
        QuantSpec s = group(gs, l);
        s.static_scales = st;
        specs.push_back(s);
      }
    }
  }
  int plans = 0;
  for (const QuantSpec& s : specs) {
    for (DType d : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
      for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
        for (std::int64_t m : {1, 5, 16, 200, 4096}) {
          for (std::int64_t k : {128, 384, 896, 1003, 4096, 7168, 16384, 32768, 40000}) {
            for (int alignment = 0; alignment < 3; ++alignment) {  // aligned, unaligned base, padded rows
              if (s.granularity == Granularity::kPerGroup && k % s.group_size != 0) continue;
              QuantProblem p = problem(m, k, s, d, impl);
              p.x_aligned16 = alignment != 1;
              if (alignment == 2) p.x_ld = p.q_ld = (k + 7) / 8 * 8;
              for (int sms : {1, 132}) {
                const QuantPlan plan = plan_quantize(p, sms);
                ASSERT_GE(plan.launch_count, 1);
                ++plans;
                for (int i = 0; i < plan.launch_count; ++i) {
                  const QuantLaunch& l = plan.launches[static_cast<std::size_t>(i)];
                  planned[l.config.key()] = kernel_name(l.config);
                  EXPECT_GE(l.grid_x, 1u);
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(plans, 1000);
  for (const auto& [key, name] : planned) EXPECT_TRUE(listed.count(key)) << name << " is planned but not listed";
  for (const auto& [key, name] : listed) {
    const bool prepare = name.rfind("quant_copy_block_scales", 0) == 0;  // prepare_block_scales' kernel
    EXPECT_TRUE(planned.count(key) || prepare) << name << " is listed but never planned";
  }
}

}  // namespace
}  // namespace fp8kit::ops
