// Kernel headers embedded in the library at build time (cmake/embed_kernels.cmake), keyed by
// their include path, e.g. "fp8kit/common/types.cuh".
#pragma once

#include <string_view>
#include <vector>

namespace fp8kit::jit {

struct EmbeddedFile {
  std::string_view path;
  std::string_view text;
};

const std::vector<EmbeddedFile>& embedded_kernel_headers();

// The text of one embedded header; throws fp8kit::Error when `path` is not embedded.
std::string_view embedded_header(std::string_view path);

// Include paths of the fp8kit headers `source` includes, directly or through other headers,
// sorted. Throws when an included fp8kit header is not embedded.
std::vector<std::string_view> transitive_includes(std::string_view source);

}  // namespace fp8kit::jit
