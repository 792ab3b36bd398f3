// Pieces of `fp8kit tune`'s command line that are worth testing on their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fp8kit::tune {

// "90", "90s", "10m", "1.5h" -> seconds (> 0); throws kInvalidArgument naming --time-budget.
double parse_time_budget(std::string_view text);

// The CUDA_VISIBLE_DEVICES value of the worker for each selected GPU: with the tuner's own
// CUDA_VISIBLE_DEVICES set ("2,3"), `gpus` index into that list (so --gpus 1 is physical 3);
// otherwise they are the ordinals themselves. Throws kInvalidArgument for an index out of range
// (when `visible_count` is known) or a duplicate.
std::vector<std::string> worker_visible_devices(const std::vector<int>& gpus, const char* parent_visible,
                                                int visible_count);

}  // namespace fp8kit::tune
