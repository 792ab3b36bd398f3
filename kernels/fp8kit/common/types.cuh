// Integer and vector types for device code. NVRTC compiles kernels with no include path, so no
// toolkit header is used here (DESIGN.md §4).
#pragma once

namespace fp8kit {

using i8 = signed char;
using u8 = unsigned char;
using i16 = short;
using u16 = unsigned short;
using i32 = int;
using u32 = unsigned int;
using i64 = long long;
using u64 = unsigned long long;

static_assert(sizeof(u16) == 2 && sizeof(u32) == 4 && sizeof(u64) == 8, "unexpected type sizes");

// One 16-byte access: the widest a thread can load or store in one instruction.
struct alignas(16) Vec16 {
  u32 w[4];
};

}  // namespace fp8kit
