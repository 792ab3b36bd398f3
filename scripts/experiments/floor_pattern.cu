// Experiment (issue 13, session 43): why does the decode GEMM's weight stream run slower than a
// plain read of the same bytes? At 512 x 7168 (m16n32 sk7: 112 CTAs, each 32 weight rows x 1 KB)
// a CTA's main loop takes 2.2-2.8 us (session 35), while the bench's cold-read floor reads all
// 3.7 MB in 2.4-2.6 us a call. This reads an N x K byte matrix four ways and times each as the
// bench's cold timing does (a graph of programmatically chained launches over rotating copies
// that pass 2x L2; median of replays, per launch):
//   seq_full   the floor's way: 8 blocks of 256 threads an SM, one 16-byte load a thread a step
//   seq_tiles  one block a GEMM tile (N/BN x S blocks), contiguous bytes, all its loads in flight
//   tiles      one block a GEMM tile, the tile's BN rows x K/S bytes (rows K bytes apart)
//   tiles_x8   the tile pattern spread over 8 blocks a tile (the floor's occupancy)
// seq_tiles vs seq_full: occupancy; tiles vs seq_tiles: the access pattern; tiles vs the GEMM's
// loop: TMA and the ring. Plain CUDA, no fp8kit code:
//   nvcc -O3 -std=c++17 -arch=sm_90a scripts/experiments/floor_pattern.cu -o /tmp/floor_pattern
//   /tmp/floor_pattern N K BN S      (e.g. 512 7168 32 7)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(x)                                                                      \
  do {                                                                                \
    cudaError_t e_ = (x);                                                             \
    if (e_ != cudaSuccess) {                                                          \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

enum Mode { kSeqFull, kSeqTiles, kTiles, kTilesX8 };
constexpr int kThreads = 256, kInFlight = 8;

struct Params {
  const uint4* src;
  unsigned* sink;
  long long n, k;  // rows, bytes a row
  int bn, split, mode;
};

// Block b's share: its first vector and, for the tile modes, the row segment it walks. Addresses
// step by kThreads vectors with a carry, not a division a load, so a thread's loads issue back to
// back (divisions between them held each ~100-200 cycles).
struct Share {
  long long base;   // vector index of the share's first vector (tile modes: of its tile)
  unsigned seg;     // vectors a row segment (tile modes)
  unsigned row;     // vectors a row
  unsigned first;   // the share's first vector within its tile (tiles_x8)
};

__device__ __forceinline__ Share share_of(const Params& p, unsigned b) {
  const unsigned row_vecs = static_cast<unsigned>(p.k / 16), seg = row_vecs / p.split;
  if (p.mode == kSeqTiles) return {static_cast<long long>(b) * p.bn * seg, seg, row_vecs, 0};
  const unsigned parts = p.mode == kTilesX8 ? 8 : 1, tile = b / parts, n_tiles = static_cast<unsigned>(p.n / p.bn);
  const unsigned n_tile = tile % n_tiles, split = tile / n_tiles;
  return {static_cast<long long>(n_tile) * p.bn * row_vecs + split * seg, seg, row_vecs, (b % parts) * (p.bn * seg / parts)};
}

// A 16-byte cp.async into shared memory (zero-filled past the share): the loads of a round are all
// in flight before any is waited on, as a TMA ring's are; register loads did not stay so (ptxas
// consumed the first values after two to four loads).
__device__ __forceinline__ void copy16(uint4* dst, const uint4* src, bool ok) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(d), "l"(src), "r"(ok ? 16 : 0) : "memory");
}

__global__ void __launch_bounds__(kThreads) read_pattern(Params p) {
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;");
  unsigned x = 0;
  if (p.mode == kSeqFull) {
    const long long total = p.n * p.k / 16;
    for (long long i = blockIdx.x * (long long)kThreads + threadIdx.x; i < total; i += (long long)gridDim.x * kThreads) {
      const uint4 v = p.src[i];
      x ^= v.x ^ v.y ^ v.z ^ v.w;
    }
  } else {
    extern __shared__ uint4 staged[];  // one round's vectors (up to 32 KB; none for seq_full)
    const Share sh = share_of(p, blockIdx.x);
    const unsigned per_block = static_cast<unsigned>(p.bn * (p.k / 16 / p.split) / (p.mode == kTilesX8 ? 8 : 1));
    const bool seq = p.mode == kSeqTiles;
    // this thread's next vector: (row, col) of the tile, or a plain offset
    unsigned v0 = sh.first + threadIdx.x, row = seq ? 0 : v0 / sh.seg, col = seq ? v0 : v0 % sh.seg;
    const unsigned step_rows = kThreads / sh.seg, step_cols = kThreads % sh.seg;
    for (unsigned i0 = threadIdx.x; i0 < per_block; i0 += kThreads * kInFlight) {
#pragma unroll
      for (int u = 0; u < kInFlight; ++u) {
        const long long vec = seq ? sh.base + col : sh.base + static_cast<long long>(row) * sh.row + col;
        const bool ok = i0 + u * kThreads < per_block;
        copy16(&staged[u * kThreads + threadIdx.x], p.src + (ok ? vec : 0), ok);
        if (seq) {
          col += kThreads;
        } else {
          row += step_rows;
          col += step_cols;
          if (col >= sh.seg) col -= sh.seg, ++row;
        }
      }
      asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;" ::: "memory");
#pragma unroll
      for (int u = 0; u < kInFlight; ++u) {
        const uint4 v = staged[u * kThreads + threadIdx.x];
        x ^= v.x ^ v.y ^ v.z ^ v.w;
      }
    }
  }
  if (x == 0x9E3779B9u) p.sink[blockIdx.x] = x;  // keeps the loads; never true for the zero fill
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s N K BN S (K bytes a row; N %% BN == 0, K %% (16 S) == 0)\n", argv[0]);
    return 2;
  }
  const long long n = std::atoll(argv[1]), k = std::atoll(argv[2]);
  const int bn = std::atoi(argv[3]), split = std::atoi(argv[4]);
  if (n <= 0 || bn <= 0 || split <= 0 || n % bn != 0 || k % (16LL * split) != 0 || bn * (k / 16 / split) % 8 != 0) {
    std::fprintf(stderr, "N %% BN, K %% (16 S) and a tile's vectors %% 8 must be 0\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  const size_t bytes = n * k;
  const int sets = static_cast<int>(std::min<size_t>(2 * prop.l2CacheSize / bytes + 1, 64));
  void* buf = nullptr;
  unsigned* sink = nullptr;
  CHECK(cudaMalloc(&buf, bytes * sets));
  CHECK(cudaMemset(buf, 0, bytes * sets));
  CHECK(cudaMalloc(&sink, 1 << 20));
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const long long tiles = (n / bn) * split;
  const char* names[] = {"seq_full", "seq_tiles", "tiles", "tiles_x8"};
  const long long grids[] = {prop.multiProcessorCount * 8LL, tiles, tiles, tiles * 8};
  const long long per_tile = bn * (k / 16 / split);
  const long long per_block[] = {0, per_tile, per_tile, per_tile / 8};
  std::printf("%s, %d SMs: N %lld x K %lld bytes (%.2f MB), BN %d, split %d: %lld tiles, %d sets\n", prop.name,
              prop.multiProcessorCount, n, k, bytes / 1e6, bn, split, tiles, sets);
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  for (int mode = kSeqFull; mode <= kTilesX8; ++mode) {
    const auto launch = [&](int set) {
      Params p{reinterpret_cast<const uint4*>(static_cast<char*>(buf) + bytes * set), sink, n, k, bn, split, mode};
      cudaLaunchConfig_t cfg{};
      cfg.gridDim = dim3(static_cast<unsigned>(grids[mode]));
      cfg.blockDim = dim3(kThreads);
      cfg.dynamicSmemBytes = static_cast<size_t>(std::min<long long>(per_block[mode], kInFlight * kThreads)) * 16;
      cfg.stream = stream;
      cudaLaunchAttribute attr{};
      attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attr.val.programmaticStreamSerializationAllowed = 1;
      cfg.attrs = &attr;
      cfg.numAttrs = 1;
      CHECK(cudaLaunchKernelEx(&cfg, read_pattern, p));
    };
    const int calls = std::max(sets, 200 / sets * sets);
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    for (int i = 0; i < calls; ++i) launch(i % sets);
    CHECK(cudaStreamEndCapture(stream, &graph));
    CHECK(cudaGraphInstantiate(&exec, graph, 0));
    std::vector<float> us;
    for (int r = 0; r < 18; ++r) {
      CHECK(cudaEventRecord(start, stream));
      CHECK(cudaGraphLaunch(exec, stream));
      CHECK(cudaEventRecord(stop, stream));
      CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      CHECK(cudaEventElapsedTime(&ms, start, stop));
      if (r >= 3) us.push_back(ms * 1000 / calls);  // three warm-up replays
    }
    std::sort(us.begin(), us.end());
    const float med = us[us.size() / 2];
    std::printf("%-10s %6lld blocks  %7.2f us  %7.0f GB/s\n", names[mode], grids[mode], med, bytes / med / 1e3);
    CHECK(cudaGraphExecDestroy(exec));
    CHECK(cudaGraphDestroy(graph));
  }
  return 0;
}
