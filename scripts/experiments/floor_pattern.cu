// Experiment (issue 13): why does the decode GEMM run slower than a plain read of its weight?
// Session 44 (H100, call 9's first form): at 512 x 7168 the GEMM's tile pattern read in rounds
// (3.06 us) is 0.4 us off the floor's read (2.66) and the GEMM (4.78) 1.7 us off that; at 7168 x
// 2048 the GEMM (7.47) is at its tiles' read (7.23) and that 0.9 us off the floor (6.34). This
// form asks what the floor needs: every SM, or its occupancy? It reads an N x K byte matrix five
// ways, each timed as the bench's cold timing does (a graph of programmatically chained launches
// over rotating copies that pass 2x L2; median of replays, per launch):
//   seq_full   the floor's way: 8 blocks of 256 threads an SM, grid-stride 16-byte loads
//   seq_sm     one block an SM, an equal contiguous share each, a deep ring of loads in flight
//   seq_tiles  one block a GEMM tile (N/BN x S blocks), contiguous bytes, the same ring
//   tiles      one block a GEMM tile, its BN rows x K/S bytes (rows K bytes apart), the same ring
//   tiles_x8   the tile pattern over 8 blocks a tile (the floor's occupancy), a ring of 2 rounds
// The ring: rounds of 8 KB (2 loads a thread) through cp.async, kDeep rounds (128 KB, deeper than
// any GEMM ring's B bytes) in flight, as a TMA ring keeps its stages in flight.
// seq_sm vs seq_full: does one block an SM reach the floor?  seq_tiles vs seq_sm: the SMs a GEMM
// leaves idle;  tiles vs seq_tiles: the access pattern;  the GEMM vs tiles: the GEMM's own cost.
//   nvcc -O3 -std=c++17 -arch=sm_90a scripts/experiments/floor_pattern.cu -o /tmp/floor_pattern
//   /tmp/floor_pattern N K BN S      (e.g. 512 7168 32 7)
#include "graph_timing.cuh"

enum Mode { kSeqFull, kSeqSm, kSeqTiles, kTiles, kTilesX8 };
constexpr int kThreads = 256, kRoundLoads = 2, kRound = kThreads * kRoundLoads;  // vectors a round
constexpr int kDeep = 16, kShallow = 2;  // rounds in flight: one block an SM / eight

struct Params {
  const uint4* src;
  unsigned* sink;
  long long n, k;  // rows, bytes a row
  int bn, split, mode;
};

// A block's share of the matrix: `count` vectors, the i-th at base + row * row_vecs + col with
// (row, col) = divmod(first + i, seg). Contiguous shares have one endless row. The cursor steps by
// kThreads vectors with a carry, not a division a load, so a thread's loads issue back to back.
struct Cursor {
  long long base;
  unsigned seg, row_vecs, row, col, count;
  __device__ long long next() {
    const long long v = base + static_cast<long long>(row) * row_vecs + col;
    row += kThreads / seg;
    col += kThreads % seg;
    if (col >= seg) col -= seg, ++row;
    return v;
  }
};

__device__ Cursor share_of(const Params& p, unsigned b) {
  const unsigned row_vecs = static_cast<unsigned>(p.k / 16), seg = row_vecs / p.split, endless = 0x7fffffffu;
  const long long total = p.n * row_vecs, tile = static_cast<long long>(p.bn) * seg;
  Cursor c{0, endless, 0, 0, threadIdx.x, 0};
  if (p.mode == kSeqSm) {
    const long long per = (total + gridDim.x - 1) / gridDim.x, begin = min(total, per * b);
    c.base = begin, c.count = static_cast<unsigned>(min(per, total - begin));
  } else if (p.mode == kSeqTiles) {
    c.base = b * tile, c.count = static_cast<unsigned>(tile);
  } else {
    const unsigned parts = p.mode == kTilesX8 ? 8 : 1, t = b / parts, n_tiles = static_cast<unsigned>(p.n / p.bn);
    const unsigned first = (b % parts) * static_cast<unsigned>(tile / parts) + threadIdx.x;
    c = {static_cast<long long>(t % n_tiles) * p.bn * row_vecs + (t / n_tiles) * seg, seg, row_vecs, first / seg,
         first % seg, static_cast<unsigned>(tile / parts)};
  }
  return c;
}

// A 16-byte cp.async into shared memory (zero-filled past the share): a round's loads are in
// flight before any is waited on, as a TMA ring's are.
__device__ __forceinline__ void copy16(uint4* dst, const uint4* src, bool ok) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(d), "l"(src), "r"(ok ? 16 : 0) : "memory");
}

// The share through a ring of kDepth rounds: round r + kDepth - 1 is issued before round r is
// used. A thread uses only the vectors it copied itself, so its own cp.async wait suffices.
template <int kDepth>
__device__ unsigned stream_share(const Params& p, Cursor c, uint4* ring) {
  const unsigned rounds = (c.count + kRound - 1) / kRound;
  unsigned x = 0, issued = 0;
  const auto issue = [&] {
    if (issued < rounds) {
#pragma unroll
      for (int u = 0; u < kRoundLoads; ++u) {
        const bool ok = issued * kRound + u * kThreads + threadIdx.x < c.count;
        const long long v = c.next();
        copy16(&ring[(issued % kDepth) * kRound + u * kThreads + threadIdx.x], p.src + (ok ? v : 0), ok);
      }
    }
    ++issued;
    asm volatile("cp.async.commit_group;" ::: "memory");  // empty past the end: the wait count holds
  };
  for (int r = 0; r < kDepth - 1; ++r) issue();
  for (unsigned r = 0; r < rounds; ++r) {
    issue();
    asm volatile("cp.async.wait_group %0;" ::"n"(kDepth - 1) : "memory");
#pragma unroll
    for (int u = 0; u < kRoundLoads; ++u) {
      const uint4 v = ring[(r % kDepth) * kRound + u * kThreads + threadIdx.x];
      x ^= v.x ^ v.y ^ v.z ^ v.w;
    }
  }
  return x;
}

template <int kDepth>
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
    extern __shared__ uint4 ring[];
    x = stream_share<kDepth>(p, share_of(p, blockIdx.x), ring);
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
  const int deep_smem = kDeep * kRound * 16, shallow_smem = kShallow * kRound * 16;
  CHECK(cudaFuncSetAttribute(read_pattern<kDeep>, cudaFuncAttributeMaxDynamicSharedMemorySize, deep_smem));
  const long long tiles = (n / bn) * split, sms = prop.multiProcessorCount;
  const char* names[] = {"seq_full", "seq_sm", "seq_tiles", "tiles", "tiles_x8"};
  const long long grids[] = {sms * 8, sms, tiles, tiles, tiles * 8};
  std::printf("%s, %lld SMs: N %lld x K %lld bytes (%.2f MB), BN %d, split %d: %lld tiles, %d sets\n", prop.name,
              sms, n, k, bytes / 1e6, bn, split, tiles, sets);
  for (int mode = kSeqFull; mode <= kTilesX8; ++mode) {
    const bool shallow = mode == kTilesX8 || mode == kSeqFull;
    const auto launch = [&](int i) {
      const int set = i % sets;
      Params p{reinterpret_cast<const uint4*>(static_cast<char*>(buf) + bytes * set), sink, n, k, bn, split, mode};
      const unsigned grid = static_cast<unsigned>(grids[mode]), smem = mode == kSeqFull ? 0 : shallow ? shallow_smem : deep_smem;
      if (shallow) {
        launch_chained(read_pattern<kShallow>, grid, kThreads, smem, stream, p);
      } else {
        launch_chained(read_pattern<kDeep>, grid, kThreads, smem, stream, p);
      }
    };
    const float med = median_us_per_launch(stream, std::max(sets, 200 / sets * sets), launch);
    std::printf("%-10s %6lld blocks  %7.2f us  %7.0f GB/s\n", names[mode], grids[mode], med, bytes / med / 1e3);
  }
  return 0;
}
