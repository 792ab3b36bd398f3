#include <bit>
#include <cstdint>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/hash.hpp"

namespace fp8kit {
namespace {

// FIPS 180-2 / NIST test vectors.
TEST(HashTest, Sha256StandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                       "mnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HashTest, Sha256IncrementalEqualsOneShotAtEverySplit) {
  // 130 bytes crosses two block boundaries and both padding cases (55/56 bytes in the last block).
  std::string msg;
  for (int i = 0; i < 130; ++i) msg.push_back(static_cast<char>(i * 7 + 3));
  for (std::size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 130u}) {
    const std::string_view m = std::string_view(msg).substr(0, len);
    const std::string whole = sha256_hex(m);
    for (std::size_t split = 0; split <= len; ++split) {
      Sha256 sha;
      sha.update(m.substr(0, split));
      sha.update(m.substr(split));
      const auto d = sha.digest();
      ASSERT_EQ(to_hex(d.data(), d.size()), whole) << "len " << len << " split " << split;
    }
  }
}

// Pinned values: cache keys must not change between builds, compilers or platforms. Computed
// independently (Python hashlib over the same framing: tag byte, little-endian u64 length, bytes).
TEST(HashTest, HasherIsStable) {
  Hasher h;
  h.update("fp8kit");
  h.update_u64(90);
  h.update("sm_90a");
  EXPECT_EQ(h.hex(), "028917bc4d8fe47450ba7debe85042cf");
  EXPECT_EQ(Hasher().hex(), "e3b0c44298fc1c149afbf4c8996fb924");
}

TEST(HashTest, HexIsRepeatableAndDoesNotDisturbState) {
  Hasher a, b;
  a.update("x");
  const std::string first = a.hex();
  EXPECT_EQ(a.hex(), first);
  EXPECT_EQ(first.size(), Hasher::kHexDigits);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  a.update("y");
  b.update("x");
  b.update("y");
  EXPECT_EQ(a.hex(), b.hex());
}

TEST(HashTest, FramingSeparatesFields) {
  auto hex_of = [](auto&&... parts) {
    Hasher h;
    (h.update(parts), ...);
    return h.hex();
  };
  EXPECT_NE(hex_of("ab", "c"), hex_of("a", "bc"));
  EXPECT_NE(hex_of("abc"), hex_of("ab", "c"));
  EXPECT_NE(hex_of(""), Hasher().hex());
  EXPECT_NE(hex_of("", ""), hex_of(""));
  Hasher as_int, as_bytes;
  as_int.update_u64(0);
  as_bytes.update(std::string(8, '\0'));
  EXPECT_NE(as_int.hex(), as_bytes.hex());
}

TEST(HashTest, SingleBitChangesAboutHalfTheBits) {
  // Over many one-bit flips the mean Hamming distance of 128-bit digests should be near 64.
  auto bits_of = [](const std::string& hex) {
    std::array<std::uint64_t, 2> w{};
    for (std::size_t i = 0; i < 2; ++i) w[i] = std::stoull(hex.substr(16 * i, 16), nullptr, 16);
    return w;
  };
  std::string base = "generated source of a kernel: struct Cfg { kBlockM = 128; };";
  Hasher h0;
  h0.update(base);
  const auto ref = bits_of(h0.hex());
  double total = 0;
  int trials = 0;
  for (std::size_t byte = 0; byte < base.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string m = base;
      m[byte] = static_cast<char>(m[byte] ^ (1 << bit));
      Hasher h;
      h.update(m);
      const auto w = bits_of(h.hex());
      const int distance = std::popcount(w[0] ^ ref[0]) + std::popcount(w[1] ^ ref[1]);
      ASSERT_GT(distance, 20);
      total += distance;
      ++trials;
    }
  }
  EXPECT_NEAR(total / trials, 64.0, 3.0);
}

TEST(HashTest, NoCollisionsOnNearbyInputs) {
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    Hasher h;
    h.update("config");
    h.update_u64(i);
    seen.insert(h.hex());
  }
  EXPECT_EQ(seen.size(), 20000u);
}

}  // namespace
}  // namespace fp8kit
