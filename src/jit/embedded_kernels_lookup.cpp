#include <algorithm>
#include <set>
#include <string>

#include <fmt/format.h>

#include "fp8kit/types.hpp"
#include "jit/embedded_kernels.hpp"

namespace fp8kit::jit {
namespace {

// The fp8kit header named by each `#include <fp8kit/...>` or `#include "fp8kit/..."` line.
std::vector<std::string_view> direct_includes(std::string_view text) {
  std::vector<std::string_view> found;
  std::size_t pos = 0;
  while ((pos = text.find("#include", pos)) != std::string_view::npos) {
    pos += 8;
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    if (pos >= text.size() || (text[pos] != '<' && text[pos] != '"')) continue;
    const char close = text[pos] == '<' ? '>' : '"';
    const std::size_t end = text.find(close, pos + 1);
    if (end == std::string_view::npos) break;
    const std::string_view path = text.substr(pos + 1, end - pos - 1);
    if (path.starts_with("fp8kit/")) found.push_back(path);
    pos = end;
  }
  return found;
}

const EmbeddedFile& find_embedded(std::string_view path) {
  for (const EmbeddedFile& file : embedded_kernel_headers()) {
    if (file.path == path) return file;
  }
  throw_invalid_argument(fmt::format("kernel header <{}> is not embedded in this build of fp8kit", path));
}

}  // namespace

std::string_view embedded_header(std::string_view path) { return find_embedded(path).text; }

std::vector<std::string_view> transitive_includes(std::string_view source) {
  std::set<std::string_view> seen;
  std::vector<std::string_view> pending = direct_includes(source);
  while (!pending.empty()) {
    // Views into the embedded table, which lives as long as the program (`source` may not).
    const EmbeddedFile& file = find_embedded(pending.back());
    pending.pop_back();
    if (!seen.insert(file.path).second) continue;
    for (std::string_view next : direct_includes(file.text)) pending.push_back(next);
  }
  return {seen.begin(), seen.end()};
}

}  // namespace fp8kit::jit
