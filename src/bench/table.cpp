#include "bench/table.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "fp8kit/types.hpp"

namespace fp8kit::bench {
namespace {

// Display width in columns: UTF-8 continuation bytes take none (headers like "µs").
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void append_cell(std::string& line, const std::string& text, std::size_t width, Align align, bool last) {
  const std::string pad(width - display_width(text), ' ');
  if (align == Align::kRight) {
    line += pad + text;
  } else {
    line += text;
    if (!last) line += pad;  // no trailing spaces
  }
}

}  // namespace

Table& Table::add_column(std::string header, Align align) {
  columns_.push_back({std::move(header), align});
  return *this;
}

void Table::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) {
    throw_invalid_argument(fmt::format("Table::add_row: {} cells for {} columns", cells.size(), columns_.size()));
  }
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> widths;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    std::size_t w = display_width(columns_[c].header);
    for (const auto& row : rows_) w = std::max(w, display_width(row[c]));
    widths.push_back(w);
  }
  auto render_line = [&](auto&& cell_of) {
    std::string line;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (c > 0) line += "  ";
      append_cell(line, cell_of(c), widths[c], columns_[c].align, c + 1 == columns_.size());
    }
    // A left-aligned empty last cell can still leave the separator behind.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::string out = render_line([&](std::size_t c) { return columns_[c].header; });
  std::size_t total = 0;
  for (std::size_t w : widths) total += w;
  total += columns_.empty() ? 0 : 2 * (columns_.size() - 1);
  out += std::string(total, '-') + "\n";
  for (const auto& row : rows_) out += render_line([&](std::size_t c) { return row[c]; });
  return out;
}

std::string format_number(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}f}", value, decimals);
}

}  // namespace fp8kit::bench
