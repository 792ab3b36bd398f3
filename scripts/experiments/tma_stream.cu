// Experiment (issue 13): is a few-CTA decode GEMM held by its TMA stream? Session 46 (H100): the
// 32-CTA m16n16 tile at 512 x 7168 takes 8.2-8.4 us at ring depths 8, 16 and 32 and with B
// prefetched into L2 (9.1 us), where call 9's cp.async read of the same tiles on 32 blocks took
// 3.7-4.0 us; ncu shows its consumers waiting on the ring's full barriers. So the data comes at
// about one stage per 290 cycles whatever is in flight. This streams the GEMM's B tiles (BN rows x
// 128 bytes, one K block a stage) through a ring of mbarriers with no MMA, six ways:
//   b        one TMA box a stage (BN x 128, 128B swizzle): the weight stream alone
//   b_a_sa   the GEMM's three boxes a stage: B, A (16 x 128 from an A of AROWS rows) and the A
//            scales (16 floats): what the GEMM's producer issues
//   b_wide   one box of BN x 256 bytes (no swizzle) a stage of two K blocks: half the TMA count
//   b_prod4  B split over 4 producer threads, one TMA each of BN/4 rows: the same bytes in more,
//            smaller boxes issued from several threads
//   b_3d     one box of J K blocks a stage through a 3-D map {128 bytes, rows, K blocks}: each K
//            block lands as its own 128B-swizzled BN x 128 tile, as the wgmma reads it (J = 4 at
//            BN 16, 2 at BN 32): a quarter or half the TMA count with the GEMM's layout
//   cp_async the stage's bytes through cp.async, 16 bytes a thread (call 9's floor way, the GEMM's
//            order: all BN rows of one K block a stage)
// Each is timed as the bench's cold timing does (a graph of programmatically chained launches over
// rotating copies that pass 2x L2; median of replays, per launch).
//   nvcc -O3 -std=c++17 -arch=sm_90a scripts/experiments/tma_stream.cu -o /tmp/tma_stream
//   /tmp/tma_stream N K BN S AROWS     (e.g. 512 7168 16 1 16)
#include <cuda.h>
#include <cudaTypedefs.h>
#include "graph_timing.cuh"

enum Mode { kB, kBASA, kWide, kProd4, kB3D, kCpAsync, kModes };
constexpr int kThreads = 128, kBlockK = 128, kSlot = 8192;  // a stage's shared bytes (BN <= 32)

struct Params {
  int n, k, bn, split;
  int set;  // the B copy this launch reads (rows set * n ...)
  const unsigned char* b;  // for cp_async
};

__device__ __forceinline__ unsigned smem(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }
__device__ __forceinline__ void bar_init(unsigned long long* b, unsigned c) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem(b)), "r"(c) : "memory");
}
__device__ __forceinline__ void arrive(unsigned long long* b) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem(b)) : "memory");
}
__device__ __forceinline__ void arrive_tx(unsigned long long* b, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem(b)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void wait(unsigned long long* b, unsigned phase) {
  asm volatile(
      "{ .reg .pred p; W: mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1; @!p bra W; }" ::"r"(smem(b)),
      "r"(phase)
      : "memory");
}
__device__ __forceinline__ void tma(void* dst, const CUtensorMap* map, unsigned long long* b, int c0, int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];" ::"r"(
          smem(dst)),
      "l"(map), "r"(smem(b)), "r"(c0), "r"(c1)
      : "memory");
}

struct Maps {
  CUtensorMap b, b_wide, b_quarter, b_3d, a, sa;
};

// The tile's K blocks through a kDepth ring: thread 0 (threads 0-3 for b_prod4) fills stages, warp
// 1 waits on each and frees it, as the GEMM's consumer does after its MMAs.
template <int kDepth, int kMode>
__global__ void __launch_bounds__(kThreads) tma_stream(const __grid_constant__ Maps m, Params p) {
  extern __shared__ __align__(1024) unsigned char ring[];
  __shared__ unsigned long long full[kDepth], empty[kDepth];
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;");
  const int n_tiles = p.n / p.bn, n_tile = blockIdx.x % n_tiles, part = blockIdx.x / n_tiles;
  const int kb_per = p.k / kBlockK / p.split, kb0 = part * kb_per, row0 = p.set * p.n + n_tile * p.bn;
  const int step = kMode == kWide ? 2 : kMode == kB3D ? kSlot / (p.bn * kBlockK) : 1, stages = kb_per / step;
  const unsigned char* base = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(ring) + 1023) & ~1023ull);
  if (kMode == kCpAsync) {
    const int vecs = p.bn * kBlockK / 16;  // a stage's 16-byte vectors
    for (int i = 0; i < stages + kDepth - 1; ++i) {
      if (i < stages) {
        for (int v = threadIdx.x; v < vecs; v += kThreads) {
          const unsigned char* src = p.b + (size_t)(row0 + v / 8) * p.k + (kb0 + i) * kBlockK + (v % 8) * 16;
          asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(smem(base + (i % kDepth) * kSlot + v * 16)),
                       "l"(src)
                       : "memory");
        }
      }
      asm volatile("cp.async.commit_group;" ::: "memory");
      if (i >= kDepth - 1) asm volatile("cp.async.wait_group %0;" ::"n"(kDepth - 1) : "memory");
    }
    asm volatile("cp.async.wait_all;" ::: "memory");
    return;
  }
  if (threadIdx.x == 0) {
    for (int s = 0; s < kDepth; ++s) bar_init(&full[s], kMode == kProd4 ? 4 : 1), bar_init(&empty[s], 1);
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  const unsigned b_bytes = p.bn * kBlockK * step;
  const unsigned bytes = b_bytes + (kMode == kBASA ? 16 * kBlockK + 16 * 4 : 0);
  if (threadIdx.x < (kMode == kProd4 ? 4 : 1)) {
    for (int i = 0; i < stages; ++i) {
      const int s = i % kDepth, kb = kb0 + i * step;
      unsigned char* slot = const_cast<unsigned char*>(base) + s * kSlot;
      if (i >= kDepth) wait(&empty[s], ((i / kDepth) - 1) & 1);
      if (kMode == kProd4) {
        const int q = threadIdx.x, rows = p.bn / 4;
        arrive_tx(&full[s], b_bytes / 4);
        tma(slot + q * rows * kBlockK, &m.b_quarter, &full[s], kb * kBlockK, row0 + q * rows);
        continue;
      }
      arrive_tx(&full[s], bytes);
      if (kMode == kB3D) {
        asm volatile(
            "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];"
            ::"r"(smem(slot)), "l"(&m.b_3d), "r"(smem(&full[s])), "r"(0), "r"(row0), "r"(kb)
            : "memory");
        continue;
      }
      if (kMode == kBASA) {
        tma(slot + b_bytes, &m.a, &full[s], kb * kBlockK, 0);
        tma(slot + b_bytes + 16 * kBlockK, &m.sa, &full[s], 0, kb);
      }
      tma(slot, kMode == kWide ? &m.b_wide : &m.b, &full[s], kb * kBlockK, row0);
    }
  } else if (threadIdx.x == 32) {
    for (int i = 0; i < stages; ++i) {
      const int s = i % kDepth;
      wait(&full[s], (i / kDepth) & 1);
      arrive(&empty[s]);
    }
  }
  __syncthreads();  // no CTA exits with its loads in flight
}

static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;

static CUtensorMap map_2d(CUtensorMapDataType type, void* ptr, unsigned long long cols, unsigned long long rows,
                          unsigned long long row_bytes, unsigned box_cols, unsigned box_rows, CUtensorMapSwizzle sw) {
  CUtensorMap map;
  const cuuint64_t dims[2] = {cols, rows}, strides[1] = {row_bytes};
  const cuuint32_t box[2] = {box_cols, box_rows}, one[2] = {1, 1};
  const CUresult r = encode(&map, type, 2, ptr, dims, strides, box, one, CU_TENSOR_MAP_INTERLEAVE_NONE, sw,
                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    std::fprintf(stderr, "cuTensorMapEncodeTiled failed (%d)\n", r);
    std::exit(1);
  }
  return map;
}

template <int kDepth, int kMode>
static void launch_one(cudaStream_t stream, int grid, const Maps& m, const Params& p) {
  const int smem = kDepth * kSlot + 1024;
  CHECK(cudaFuncSetAttribute(tma_stream<kDepth, kMode>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  launch_chained(tma_stream<kDepth, kMode>, grid, kThreads, smem, stream, m, p);
}

template <int kMode>
static void launch(int depth, cudaStream_t s, int grid, const Maps& m, const Params& p) {
  switch (depth) {
    case 4: return launch_one<4, kMode>(s, grid, m, p);
    case 8: return launch_one<8, kMode>(s, grid, m, p);
    case 16: return launch_one<16, kMode>(s, grid, m, p);
    default: return launch_one<24, kMode>(s, grid, m, p);
  }
}

static void launch_mode(int mode, int depth, cudaStream_t s, int grid, const Maps& m, const Params& p) {
  switch (mode) {
    case kB: return launch<kB>(depth, s, grid, m, p);
    case kBASA: return launch<kBASA>(depth, s, grid, m, p);
    case kWide: return launch<kWide>(depth, s, grid, m, p);
    case kProd4: return launch<kProd4>(depth, s, grid, m, p);
    case kB3D: return launch<kB3D>(depth, s, grid, m, p);
    default: return launch<kCpAsync>(depth, s, grid, m, p);
  }
}

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s N K BN S AROWS (K bytes a row)\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[1]), k = std::atoi(argv[2]), bn = std::atoi(argv[3]), split = std::atoi(argv[4]),
            arows = std::atoi(argv[5]);
  if (n % bn != 0 || bn % 4 != 0 || bn > 32 || k % (2 * kBlockK * split) != 0 || arows < 1 || arows > 16) {
    std::fprintf(stderr, "N %% BN == 0, BN %% 4 == 0, BN <= 32, K %% (256 S) == 0, 1 <= AROWS <= 16\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  cudaDriverEntryPointQueryResult q;
  CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", reinterpret_cast<void**>(&encode), 12000,
                                         cudaEnableDefault, &q));
  const size_t bytes = static_cast<size_t>(n) * k;
  const int sets = static_cast<int>(std::min<size_t>(2 * prop.l2CacheSize / bytes + 1, 64));
  unsigned char *b = nullptr, *a = nullptr;
  float* sa = nullptr;
  const int kblocks = k / kBlockK, sa_cols = (arows + 3) / 4 * 4;  // 16-byte aligned rows of A scales
  CHECK(cudaMalloc(&b, bytes * sets));
  CHECK(cudaMemset(b, 0, bytes * sets));
  CHECK(cudaMalloc(&a, static_cast<size_t>(arows) * k));
  CHECK(cudaMemset(a, 0, static_cast<size_t>(arows) * k));
  CHECK(cudaMalloc(&sa, static_cast<size_t>(kblocks) * sa_cols * 4));
  CHECK(cudaMemset(sa, 0, static_cast<size_t>(kblocks) * sa_cols * 4));
  const unsigned long long rows = static_cast<unsigned long long>(n) * sets;
  const auto u8 = CU_TENSOR_MAP_DATA_TYPE_UINT8;
  Maps m;
  bool b3d_ok = false;
  m.b = map_2d(u8, b, k, rows, k, kBlockK, bn, CU_TENSOR_MAP_SWIZZLE_128B);
  m.b_wide = map_2d(u8, b, k, rows, k, 2 * kBlockK, bn, CU_TENSOR_MAP_SWIZZLE_NONE);
  m.b_quarter = map_2d(u8, b, k, rows, k, kBlockK, bn / 4, CU_TENSOR_MAP_SWIZZLE_128B);
  {  // {128 bytes, rows, K blocks}: row stride K, K-block stride 128 bytes
    const int j = kSlot / (bn * kBlockK);
    const cuuint64_t dims[3] = {kBlockK, rows, static_cast<cuuint64_t>(kblocks)};
    const cuuint64_t strides[2] = {static_cast<cuuint64_t>(k), kBlockK};
    const cuuint32_t box[3] = {kBlockK, static_cast<cuuint32_t>(bn), static_cast<cuuint32_t>(j)}, one[3] = {1, 1, 1};
    const CUresult r = encode(&m.b_3d, u8, 3, b, dims, strides, box, one, CU_TENSOR_MAP_INTERLEAVE_NONE,
                              CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) std::printf("b_3d: cuTensorMapEncodeTiled failed (%d), its rows are not run\n", r);
    b3d_ok = r == CUDA_SUCCESS && (k / kBlockK / split) % j == 0;
  }
  m.a = map_2d(u8, a, k, arows, k, kBlockK, 16, CU_TENSOR_MAP_SWIZZLE_128B);
  m.sa = map_2d(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, sa, arows, kblocks, sa_cols * 4, 16, 1, CU_TENSOR_MAP_SWIZZLE_NONE);
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const int grid = (n / bn) * split;
  std::printf("%s: N %d x K %d bytes (%.2f MB), BN %d, split %d: %d CTAs, A rows %d, %d sets\n", prop.name, n, k,
              bytes / 1e6, bn, split, grid, arows, sets);
  const char* names[] = {"b", "b_a_sa", "b_wide", "b_prod4", "b_3d", "cp_async"};
  for (int mode = 0; mode < kModes; ++mode) {
    if (mode == kB3D && !b3d_ok) continue;
    for (int depth : {4, 8, 16, 24}) {
      const auto launch = [&](int i) { launch_mode(mode, depth, stream, grid, m, Params{n, k, bn, split, i % sets, b}); };
      const float med = median_us_per_launch(stream, std::max(sets, 200 / sets * sets), launch);
      std::printf("%-9s depth %2d  %7.2f us  %7.0f GB/s\n", names[mode], depth, med, bytes / med / 1e3);
    }
  }
  return 0;
}
