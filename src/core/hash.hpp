// Content hashing for JIT cache keys (DESIGN.md §4): SHA-256, truncated to 128 bits by Hasher.
// Chosen over a fast non-cryptographic hash because keys must never change across compilers,
// platforms or releases, and SHA-256 has standard test vectors that pin that down.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fp8kit {

// Plain SHA-256 (FIPS 180-4) over a byte stream.
class Sha256 {
 public:
  static constexpr std::size_t kDigestBytes = 32;
  using Digest = std::array<std::uint8_t, kDigestBytes>;

  Sha256();
  void update(std::string_view bytes);
  Digest digest() const;  // does not disturb the running state: more updates may follow

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

std::string to_hex(const std::uint8_t* bytes, std::size_t count);
std::string sha256_hex(std::string_view bytes);  // 64 lowercase hex digits

// A structured hash: every field is framed (type tag + length), so ("ab", "c") and ("a", "bc")
// hash differently, as do update("") and no update at all.
class Hasher {
 public:
  static constexpr std::size_t kHexDigits = 32;  // 128 bits

  void update(std::string_view bytes);
  void update_u64(std::uint64_t value);
  std::string hex() const;  // 32 lowercase hex digits; the hasher stays usable

 private:
  Sha256 sha_;
};

}  // namespace fp8kit
