#include "client/shell/table.hpp"

#include <cstdio>
#include <cstring>
#include <cwchar>
#include <cwctype>
#include <stdexcept>

namespace virtactor::client::shell {

namespace {

/// "\xNN" as virsh writes it: the byte goes through a signed char, so bytes
/// above 0x7f print as "\xff" (the first four characters of "\xffffffNN").
std::string hex_escape(char c) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<int>(c));
  return std::string{buf, buf + 4};
}

bool ascii_cntrl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool ascii_print(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x7f;
}

} // namespace

std::string encode_cell(const std::string& text, size_t& width) {
  std::string out;
  width = 0;
  std::mbstate_t st{};
  const char* p = text.c_str();
  const char* end = p + text.size();
  while (p < end && *p != '\0') {
    if ((p[0] == '\\' && p[1] == 'x') || ascii_cntrl(*p)) {
      out += hex_escape(*p);
      width += 4;
      ++p;
      continue;
    }
    wchar_t wc = 0;
    size_t len = std::mbrtowc(&wc, p, MB_CUR_MAX, &st);
    if (len == 0)
      break;
    if (len == static_cast<size_t>(-1) || len == static_cast<size_t>(-2)) {
      len = 1;
      if (!ascii_print(*p)) {
        out += hex_escape(*p);
        width += 4;
      } else {
        out.push_back(*p);
        ++width;
      }
    } else if (!std::iswprint(static_cast<wint_t>(wc))) {
      for (size_t i = 0; i < len; ++i) {
        out += hex_escape(p[i]);
        width += 4;
      }
    } else {
      out.append(p, len);
      int w = ::wcwidth(wc);
      width += static_cast<size_t>(w);
    }
    p += len;
  }
  return out;
}

table::table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void table::add_row(std::vector<std::string> cells) {
  if (cells.size() != rows_.front().size())
    throw std::logic_error("table row has the wrong number of cells");
  rows_.push_back(std::move(cells));
}

std::string table::render(bool header) const {
  const size_t ncols = rows_.front().size();
  std::vector<size_t> maxw(ncols, 0);
  std::vector<std::vector<std::string>> cells(rows_.size());
  std::vector<std::vector<size_t>> widths(rows_.size(), std::vector<size_t>(ncols, 0));
  for (size_t i = 0; i < rows_.size(); ++i) {
    cells[i].resize(ncols);
    for (size_t j = 0; j < ncols; ++j) {
      cells[i][j] = encode_cell(rows_[i][j], widths[i][j]);
      if ((header || i > 0) && widths[i][j] > maxw[j])
        maxw[j] = widths[i][j];
    }
  }
  std::string out;
  auto print_row = [&](size_t i) {
    for (size_t j = 0; j < ncols; ++j) {
      out += " " + cells[i][j];
      // virsh computes the padding in size_t; a cell wider than the column
      // (only the unmeasured header in quiet mode) wraps around to nothing.
      if (j + 1 < ncols && maxw[j] + 2 >= widths[i][j])
        out.append(maxw[j] - widths[i][j] + 2, ' ');
    }
    out += "\n";
  };
  if (header) {
    print_row(0);
    for (size_t j = 0; j < ncols; ++j)
      out.append(maxw[j] + 3, '-');
    out += "\n";
  }
  for (size_t i = 1; i < rows_.size(); ++i)
    print_row(i);
  return out;
}

} // namespace virtactor::client::shell
