// The RunContext every benchmark record carries (DESIGN.md §7): device, library versions, build,
// timing mode, command line and date, so any number can be traced back and reproduced.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bench/timing.hpp"
#include "core/result.hpp"
#include "cuda/device.hpp"

namespace fp8kit::bench {

// Pure assembly from what was queried; `device` is empty on a machine without a GPU
// (device "none", no uuid, compute capability "").
RunContext make_run_context(const std::optional<cuda::DeviceInfo>& device, const cuda::LibraryVersions& versions,
                            std::string_view timing_mode, std::string command_line, std::string date_utc);

// Queries the current device (when there is one), the libraries and the clock. `command_line` is
// passed in (the CLI records it), so src/bench does not depend on src/cli.
RunContext current_run_context(TimingMode mode, std::string command_line);

}  // namespace fp8kit::bench
