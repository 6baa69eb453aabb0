#include "tests/shell/case_file.hpp"

#include <regex>
#include <sstream>

namespace virtactor::tests::shell {

namespace {

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '\\':
        out.push_back('\\');
        break;
      default:
        out.push_back('\\');
        out.push_back(c);
    }
  }
  return out;
}

} // namespace

std::pair<std::optional<case_list>, std::string> parse_case_file(const std::string& text) {
  case_list list;
  std::istringstream in{text};
  std::string raw_line;
  int lineno = 0;
  auto fail = [&](const std::string& why) {
    return std::make_pair(std::optional<case_list>{},
                          "line " + std::to_string(lineno) + ": " + why);
  };
  while (std::getline(in, raw_line)) {
    ++lineno;
    size_t start = raw_line.find_first_not_of(" \t");
    if (start == std::string::npos || raw_line[start] == '#')
      continue;
    std::string line = raw_line.substr(start);
    auto colon = line.find(':');
    if (colon == std::string::npos)
      return fail("expected 'key: value'");
    std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.erase(0, 1);
    if (key == "mask-all") {
      list.global_masks.push_back(value);
      continue;
    }
    if (key == "case") {
      if (value.empty())
        return fail("a case needs a name");
      list.cases.push_back(shell_case{});
      list.cases.back().name = value;
      list.cases.back().line = lineno;
      continue;
    }
    if (list.cases.empty())
      return fail("'" + key + "' before the first case");
    auto& c = list.cases.back();
    if (key == "arg") {
      c.args.push_back(value);
    } else if (key == "arg-esc") {
      c.args.push_back(unescape(value));
    } else if (key == "stdin") {
      c.stdin_text += value + "\n";
    } else if (key == "env") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail("env needs NAME=VALUE");
      c.env.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (key == "mask") {
      try {
        std::regex check{value};
      } catch (const std::regex_error&) {
        return fail("bad regex '" + value + "'");
      }
      c.masks.push_back(value);
    } else if (key == "known-gap") {
      if (value.empty())
        return fail("a known gap needs a reason");
      c.known_gap = value;
    } else if (key == "same-uri-only") {
      if (value.empty())
        return fail("same-uri-only needs a reason");
      c.same_uri_only = value;
    } else if (key == "raw") {
      c.raw = value == "yes";
    } else {
      return fail("unknown key '" + key + "'");
    }
  }
  for (const auto& c : list.cases)
    if (c.args.empty() && c.stdin_text.empty() && !c.raw)
      return std::make_pair(std::optional<case_list>{}, "line " + std::to_string(c.line) +
                                                            ": case '" + c.name + "' has no arg");
  return {std::move(list), {}};
}

std::string apply_masks(const std::string& text, const std::vector<std::string>& masks) {
  if (masks.empty())
    return text;
  std::vector<std::regex> res;
  for (const auto& m : masks)
    res.emplace_back(m);
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    for (const auto& re : res)
      line = std::regex_replace(line, re, "<masked>");
    out += line;
    if (nl == std::string::npos)
      break;
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

} // namespace virtactor::tests::shell
