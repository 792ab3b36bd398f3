#include "tune/tune_args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "fp8kit/types.hpp"

namespace fp8kit::tune {

double parse_time_budget(std::string_view text) {
  const auto bad = [&] {
    throw_invalid_argument(fmt::format("--time-budget: '{}' is not a duration (e.g. 540, 540s, 9m, 1.5h)", text));
  };
  if (text.empty()) bad();
  double unit = 1;
  std::string_view number = text;
  switch (text.back()) {
    case 's': unit = 1; number.remove_suffix(1); break;
    case 'm': unit = 60; number.remove_suffix(1); break;
    case 'h': unit = 3600; number.remove_suffix(1); break;
    default: break;
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(v) || v <= 0) bad();
  return v * unit;
}

std::vector<std::string> worker_visible_devices(const std::vector<int>& gpus, const char* parent_visible,
                                                int visible_count) {
  std::vector<std::string> parent;
  if (parent_visible != nullptr && *parent_visible != '\0') {
    std::string_view rest(parent_visible);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      parent.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const int g = gpus[i];
    if (g < 0 || (visible_count > 0 && g >= visible_count) || (!parent.empty() && g >= static_cast<int>(parent.size()))) {
      throw_invalid_argument(fmt::format("--gpus: GPU {} does not exist here ({} visible)", g,
                                         visible_count > 0 ? visible_count : static_cast<int>(parent.size())));
    }
    if (std::count(gpus.begin(), gpus.end(), g) > 1) throw_invalid_argument(fmt::format("--gpus: GPU {} is listed twice", g));
    out.push_back(parent.empty() ? std::to_string(g) : parent[static_cast<std::size_t>(g)]);
  }
  return out;
}

}  // namespace fp8kit::tune
