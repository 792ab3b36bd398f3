// Version and git revision, embedded at build time (a GPU machine may get the tree without .git).
#pragma once

#include <string_view>

namespace fp8kit {
std::string_view version();       // "0.1.0"
std::string_view git_revision();  // 12-hex-digit short hash, "-dirty" when built from a changed tree
std::string_view build_type();    // CMAKE_BUILD_TYPE
}  // namespace fp8kit
