// The quantization planner: one function per granularity picks the kernels, grids and launch
// widths, following the family's measured rules (quant_family.hpp).
#include "ops/quant_plan.hpp"

#include <algorithm>
#include <limits>

#include "ops/quant_family.hpp"

namespace fp8kit::ops {
namespace {

using namespace quant_family;

// What every planner reads: the problem, its scale geometry, and the path it may take.
struct Planning {
  const QuantProblem& pr;
  ScaleGeometry geo;
  bool vector;  // 16-byte loads: every row start aligned (base and row stride)
  bool whole;   // whole-chunk kernels: vector and cols % 8 == 0
  std::int64_t chunks_per_row;
  int sm_count;
  QuantPlan plan;

  void add(const QuantKernelConfig& c, std::int64_t grid_x, std::int64_t items, std::int64_t threads = 0,
           std::int64_t grid_y = 1, int atomic = 0) {
    QuantLaunch& l = plan.launches[static_cast<std::size_t>(plan.launch_count++)];
    l.config = c;
    l.grid_x = static_cast<unsigned>(grid_x);
    l.grid_y = static_cast<unsigned>(grid_y);
    l.threads = static_cast<unsigned>(threads > 0 ? threads : c.threads);
    l.items = static_cast<std::uint32_t>(items);
    l.atomic_amax = atomic;
  }
  std::int64_t elementwise_grid(std::int64_t items) const {
    return std::clamp<std::int64_t>(ceil_div(items, kElementwiseThreads * kElementwiseChunks), 1, std::int64_t{sm_count} * 8);
  }
};

QuantParams base_params(const QuantProblem& pr, const ScaleGeometry& geo) {
  const QuantSpec& spec = pr.spec;
  QuantParams p;
  p.x_ld = pr.x_ld;
  p.q_ld = pr.q_ld;
  p.s_rs = spec.granularity == Granularity::kPerTensor ? 0 : geo.row_stride;
  p.s_cs = spec.granularity == Granularity::kPerTensor ? 0 : geo.col_stride;
  p.rows = static_cast<int>(pr.rows);
  p.cols = static_cast<int>(pr.cols);
  p.scale_rows = p.scale_rows_pad = static_cast<int>(geo.rows);
  p.scale_cols = p.scale_cols_pad = static_cast<int>(geo.cols);
  if (spec.granularity == Granularity::kPerGroup && spec.layout == ScaleLayout::kColMajorTmaAligned) {
    p.scale_rows_pad = static_cast<int>(geo.col_stride);
  }
  if (spec.granularity == Granularity::kBlock128) p.scale_cols_pad = static_cast<int>(geo.row_stride);
  p.ue8m0 = spec.ue8m0 && !spec.static_scales ? 1 : 0;
  p.scale_ub = spec.scale_ub ? *spec.scale_ub : std::numeric_limits<float>::infinity();
  return p;
}

// The baseline: amax per scale cell, scales, cast; three plain kernels, one thread an element.
void plan_naive(Planning& pl) {
  const QuantProblem& pr = pl.pr;
  QuantParams& p = pl.plan.params;
  const Granularity g = pr.spec.granularity;
  p.cell_rows = g == Granularity::kBlock128 ? 128 : 1;
  p.cell_cols = g == Granularity::kBlock128 ? 128 : g == Granularity::kPerGroup ? pr.spec.group_size : p.cols;
  if (!pr.spec.static_scales) {
    QuantKernelConfig amax = config(QuantKernelKind::kNaiveAmax, pr.input, false, 256, 1);
    amax.block_cells = g == Granularity::kBlock128;
    if (g == Granularity::kPerTensor) {
      pl.plan.zero_scale0 = true;  // cells are rows, all sent to scales[0] (s_rs = s_cs = 0)
      pl.add(amax, ceil_div(pr.rows, 8), pr.rows, 0, 1, 1);
    } else {
      const std::int64_t cells = pl.geo.rows * pl.geo.cols;
      pl.add(amax, amax.block_cells ? cells : ceil_div(cells, 8), cells);
    }
    const std::int64_t entries = std::int64_t{p.scale_rows_pad} * p.scale_cols_pad;
    pl.add(config(QuantKernelKind::kNaiveScale, DType::kFloat32, false, 256, 1), ceil_div(entries, 256), entries);
  }
  const std::int64_t n = pr.rows * pr.cols;
  pl.add(config(QuantKernelKind::kNaiveCast, pr.input, false, 256, 1), ceil_div(n, 256), n);
}

// Given scales: one elementwise cast.
void plan_static(Planning& pl) {
  const Granularity g = pl.pr.spec.granularity;
  const CastScaleKind k = g == Granularity::kPerTensor  ? CastScaleKind::kTensor
                          : g == Granularity::kPerToken ? CastScaleKind::kRow
                                                        : CastScaleKind::kGroup;
  const std::int64_t items = pl.pr.rows * pl.chunks_per_row;
  pl.add(cast(pl.pr.input, pl.vector, k, pl.pr.spec.group_size), pl.elementwise_grid(items), items);
}

// Small tensors in one launch (no zeroing, no second pass), else amax, then the cast walking back.
void plan_tensor(Planning& pl) {
  const std::int64_t items = pl.pr.rows * pl.chunks_per_row;
  if (pl.whole && items <= std::int64_t{kOneLaunchCluster} * kOneLaunchThreads * 4) {
    const int cluster = items <= kOneLaunchThreads * 4 ? 1 : kOneLaunchCluster;
    int chunks = 4;
    for (int c : kOneLaunchChunks) {
      if (ceil_div(items, std::int64_t{cluster} * c) <= kOneLaunchThreads) {
        chunks = c;
        break;
      }
    }
    pl.add(one_launch(pl.pr.input, cluster, chunks), cluster, items, round_up32(ceil_div(items, std::int64_t{cluster} * chunks)));
    return;
  }
  pl.plan.zero_scale0 = true;
  pl.add(config(QuantKernelKind::kTensorAmax, pl.pr.input, pl.vector, kElementwiseThreads, kElementwiseChunks),
         pl.elementwise_grid(items), items);
  pl.add(cast(pl.pr.input, pl.vector, CastScaleKind::kTensorDynamic, 0), pl.elementwise_grid(items), items);
}

// A warp a row, then a block a row as wide as the row needs, then two reads.
void plan_token(Planning& pl) {
  const QuantProblem& pr = pl.pr;
  const std::int64_t chunks = pl.chunks_per_row;
  if (pl.whole && chunks <= kWarpMaxChunks) {
    int per_thread = 1;
    while (32 * per_thread < chunks) per_thread *= 2;
    const int threads = pr.rows <= pl.sm_count ? kWarpTinyThreads : kWarpThreads;
    pl.add(config(QuantKernelKind::kTokenWarp, pr.input, true, threads, per_thread), ceil_div(pr.rows, threads / 32), pr.rows);
    return;
  }
  if (pl.whole) {
    const int per_thread = token_block_chunks(pr.input, chunks, pr.rows, pl.sm_count);
    const std::int64_t threads = round_up32(ceil_div(chunks, per_thread));
    if (threads <= kTokenBlockMaxThreads) {
      pl.add(config(QuantKernelKind::kTokenBlock, pr.input, true, kTokenBlockMaxThreads, per_thread), pr.rows, pr.rows, threads);
      return;
    }
  }
  pl.add(two_pass(pr.input, pl.vector, chunks), pr.rows, pr.rows);
}

// Column-major scales: neighbouring lanes on neighbouring rows, so scale stores coalesce; the
// row-block order restores row locality across blocks. Runs along rows inside a block measured
// 7-11% slower at 1x64 and 1-4% at 1x128: the strided 4-byte stores cost more than the locality buys.
void plan_group(Planning& pl) {
  const QuantProblem& pr = pl.pr;
  const int group = pr.spec.group_size;
  const bool rows_fastest = pr.spec.layout != ScaleLayout::kRowMajor;
  const std::int64_t item_rows = rows_fastest ? pl.plan.params.scale_rows_pad : pr.rows;
  if (!pl.whole) {
    const QuantKernelConfig c = group_ragged(pr.input, pl.vector, group, rows_fastest);
    const std::int64_t items = item_rows * pl.geo.cols;
    pl.add(c, ceil_div(items, std::int64_t{c.threads / (group / 8)} * c.chunks), items);
    return;
  }
  const int lanes = group / 8;
  const bool small = ceil_div(item_rows * ceil_div(pl.geo.cols, 8), kGroupThreads / lanes) < pl.sm_count;
  const bool tiny = ceil_div(item_rows * pl.geo.cols, kGroupTinyThreads / lanes) <= pl.sm_count;
  const QuantKernelConfig c = tiny ? group_runs(pr.input, group, rows_fastest, 1, kGroupTinyThreads, false)
                                   : group_runs(pr.input, group, rows_fastest, group_run(pr.input, small), kGroupThreads,
                                                group_row_blocks(group, rows_fastest, small));
  const std::int64_t slots = c.threads / lanes, runs = ceil_div(pl.geo.cols, c.chunks), items = item_rows * runs;
  pl.add(c, c.row_blocks ? ceil_div(item_rows, slots) * runs : ceil_div(items, slots), items);
}

}  // namespace

QuantPlan plan_quantize(const QuantProblem& pr, int sm_count) {
  const std::int64_t in_bytes = static_cast<std::int64_t>(dtype_size(pr.input));
  const bool vector = pr.x_aligned16 && pr.q_aligned8 && (pr.rows <= 1 || ((pr.x_ld * in_bytes) % 16 == 0 && pr.q_ld % 8 == 0));
  Planning pl{pr, scale_geometry(pr.spec, pr.rows, pr.cols), vector, vector && pr.cols % 8 == 0, ceil_div(pr.cols, 8), sm_count, {}};
  pl.plan.params = base_params(pr, pl.geo);
  if (pr.impl == QuantImpl::kNaive) {
    plan_naive(pl);
  } else if (pr.spec.static_scales) {
    plan_static(pl);
  } else {
    switch (pr.spec.granularity) {
      case Granularity::kPerTensor:
        plan_tensor(pl);
        break;
      case Granularity::kPerToken:
      case Granularity::kPerChannel:
        plan_token(pl);
        break;
      case Granularity::kPerGroup:
        plan_group(pl);
        break;
      case Granularity::kBlock128:
        pl.add(config(QuantKernelKind::kBlock128, pr.input, vector, 256, 1), pl.geo.cols, pl.geo.cols * pl.geo.rows, 0,
               pl.geo.rows);
        break;
    }
  }
  return pl.plan;
}

}  // namespace fp8kit::ops
