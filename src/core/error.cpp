// fp8kit::Error's throw helpers (include/fp8kit/types.hpp).
#include <string>

#include "fp8kit/types.hpp"

namespace fp8kit {

void throw_invalid_argument(const std::string& message) {
  throw Error(ErrorKind::kInvalidArgument, message);
}

void throw_environment(const std::string& message) {
  throw Error(ErrorKind::kEnvironment, message);
}

}  // namespace fp8kit
