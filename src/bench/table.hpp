// A small aligned text table for benchmark reports: a header row, a rule, then rows; text columns
// left-aligned, number columns right-aligned, columns two spaces apart.
#pragma once

#include <string>
#include <vector>

namespace fp8kit::bench {

enum class Align { kLeft, kRight };

class Table {
 public:
  Table& add_column(std::string header, Align align);
  // Throws fp8kit::Error(kInvalidArgument) when the cell count differs from the column count.
  void add_row(std::vector<std::string> cells);

  std::size_t rows() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  // Every line ends with '\n'; no trailing spaces. Widths fit the widest cell or header.
  std::string render() const;

 private:
  struct Column {
    std::string header;
    Align align;
  };
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Fixed-point text for a table cell ("12.35"); "n/a" for NaN, "inf" for infinities.
std::string format_number(double value, int decimals);

}  // namespace fp8kit::bench
