/// Column tables as virsh prints them (`vshTable`): a header, a dashed rule,
/// columns as wide as their widest cell measured in terminal cells under the
/// current locale, control characters shown as `\xNN`.
#pragma once

#include <string>
#include <vector>

namespace virtactor::client::shell {

class table {
public:
  explicit table(std::vector<std::string> header);

  /// Appends a row; it must have as many cells as the header.
  void add_row(std::vector<std::string> cells);

  /// The table as text; without `header` the header row and the rule are
  /// left out and do not count for column widths (quiet mode).
  std::string render(bool header) const;

private:
  std::vector<std::vector<std::string>> rows_;
};

/// A cell as virsh prints it, and its width in terminal columns.
std::string encode_cell(const std::string& text, size_t& width);

} // namespace virtactor::client::shell
