#include "drivers/xml/xml_util.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>
#include <vector>

#include "drivers/xml/limits.hpp"
#include "drivers/xml/uuid.hpp"

namespace virtactor::drivers::xml {

namespace {

/// One element left open at some point of a document, for libxml2-like texts.
struct open_tag {
  std::string name;
  size_t line = 1;
};

size_t line_of(std::string_view text, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n')
      ++line;
  return line;
}

/// One tag found by `next_tag`.
struct tag_event {
  enum kind_t { open, close, empty, other } kind = other;
  std::string name;
  size_t begin = 0; ///< offset of '<'
  size_t end = 0;   ///< offset just past '>' (or the text's end)
};

/// The next tag at or after `from`, skipping comments, CDATA, declarations
/// and processing instructions. A small scanner: enough to name tags and find
/// the end of the root element in error messages.
std::optional<tag_event> next_tag(std::string_view text, size_t from) {
  size_t i = text.find('<', from);
  if (i == std::string_view::npos)
    return std::nullopt;
  tag_event ev;
  ev.begin = i;
  auto skip_to = [&](std::string_view terminator, size_t at) {
    auto e = text.find(terminator, at);
    return e == std::string_view::npos ? text.size() : e + terminator.size();
  };
  if (text.substr(i, 4) == "<!--") {
    ev.end = skip_to("-->", i + 4);
  } else if (text.substr(i, 9) == "<![CDATA[") {
    ev.end = skip_to("]]>", i + 9);
  } else if (text.substr(i, 2) == "<?" || text.substr(i, 2) == "<!") {
    ev.end = skip_to(">", i);
  } else {
    bool closing = text.substr(i, 2) == "</";
    size_t n = i + (closing ? 2 : 1);
    size_t e = n;
    while (e < text.size() && !std::isspace(static_cast<unsigned char>(text[e])) &&
           text[e] != '>' && text[e] != '/')
      ++e;
    ev.name = std::string{text.substr(n, e - n)};
    // Find the end of the tag, skipping quoted attribute values.
    char quote = 0;
    while (e < text.size()) {
      char c = text[e];
      if (quote) {
        if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
      ++e;
    }
    ev.end = e < text.size() ? e + 1 : e;
    if (closing)
      ev.kind = tag_event::close;
    else if (e < text.size() && e > i && text[e - 1] == '/')
      ev.kind = tag_event::empty;
    else
      ev.kind = tag_event::open;
  }
  return ev;
}

/// The elements open at `offset`, innermost last.
std::vector<open_tag> open_tags_at(std::string_view text, size_t offset) {
  std::vector<open_tag> stack;
  size_t i = 0;
  while (auto ev = next_tag(text, i)) {
    if (ev->begin >= offset)
      break;
    if (ev->kind == tag_event::open)
      stack.push_back({ev->name, line_of(text, ev->begin)});
    else if (ev->kind == tag_event::close && !stack.empty())
      stack.pop_back();
    i = ev->end;
  }
  return stack;
}

/// The offset just past the first root element of a well-formed `text`.
size_t root_end(std::string_view text) {
  int depth = 0;
  size_t i = 0;
  while (auto ev = next_tag(text, i)) {
    i = ev->end;
    if (ev->kind == tag_event::open)
      ++depth;
    else if (ev->kind == tag_event::close)
      --depth;
    if ((ev->kind == tag_event::close || ev->kind == tag_event::empty) && depth == 0)
      return ev->end;
  }
  return text.size();
}

/// libvirt's report of a libxml2 parse error: "FILE:LINE: MESSAGE\nLINE TEXT\n---^".
virt_error detail_error(std::string_view text, size_t pos, std::string_view message,
                        const doc_kind& kind) {
  pos = std::min(pos, text.size());
  size_t cur = pos;
  while (cur > 0 && cur < text.size() && (text[cur] == '\n' || text[cur] == '\r'))
    --cur;
  // At the very end there is no character to look at (fuzz_xml found the
  // read one past the text): start from the last one.
  if (cur == text.size() && cur > 0)
    --cur;
  while (cur > 0 && text[cur] != '\n' && text[cur] != '\r')
    --cur;
  if (cur < text.size() && (text[cur] == '\n' || text[cur] == '\r'))
    ++cur;
  size_t col = pos >= cur ? pos - cur : 0;
  size_t end = cur;
  while (end < text.size() && text[end] != '\n' && text[end] != '\r')
    ++end;
  std::string msg{kind.name};
  msg += ':';
  msg += std::to_string(line_of(text, pos));
  msg += ": ";
  msg += message;
  msg += '\n';
  // libvirt prints its context buffer with %s: an empty one is a null
  // string, which glibc prints as "(null)" (an error at the end of a file that
  // ends with a newline).
  msg += end > cur ? text.substr(cur, end - cur) : std::string_view{"(null)"};
  msg += '\n';
  msg.append(col, '-');
  msg += '^';
  return make_virt_error(error_code::xml_detail, kind.domain, std::move(msg));
}

/// The first reference to an entity XML does not predefine: its name and the
/// offset just past it. libxml2 refuses those; pugixml keeps them as text.
std::optional<std::pair<std::string, size_t>> undefined_entity(std::string_view text) {
  static constexpr std::string_view predefined[] = {"lt", "gt", "amp", "apos", "quot"};
  size_t i = 0;
  while (i < text.size()) {
    auto skip = [&](std::string_view open, std::string_view close) {
      if (text.substr(i, open.size()) != open)
        return false;
      auto e = text.find(close, i + open.size());
      i = e == std::string_view::npos ? text.size() : e + close.size();
      return true;
    };
    if (skip("<!--", "-->") || skip("<![CDATA[", "]]>") || skip("<?", "?>"))
      continue;
    if (text[i] == '&' && i + 1 < text.size() && text[i + 1] != '#') {
      auto semi = text.find(';', i);
      if (semi != std::string_view::npos) {
        auto name = text.substr(i + 1, semi - i - 1);
        if (std::find(std::begin(predefined), std::end(predefined), name) == std::end(predefined))
          return std::pair{std::string{name}, semi + 1};
      }
    }
    ++i;
  }
  return std::nullopt;
}

/// A character XML 1.0 forbids, found by `first_illegal_char`: where libxml2
/// points and what it says.
struct illegal_char {
  size_t pos = 0;
  std::string message;
};

/// XML 1.0's `Char`: tab, line ends and everything from space up, less the
/// surrogates, U+FFFE and U+FFFF.
bool xml_char(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/// The character at `i` and its length in bytes. A byte that starts no valid
/// UTF-8 sequence reads as U+0080, an allowed one (libxml2 refuses those
/// too, with another message; the model passes them through).
std::pair<uint32_t, size_t> char_at(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  uint32_t c = byte(i);
  if (c < 0x80)
    return {c, 1};
  size_t len = c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || i + len > text.size())
    return {0x80, 1};
  uint32_t value = c & (0x3F >> (len - 1));
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return {0x80, 1};
    value = value << 6 | (byte(i + k) & 0x3F);
  }
  return {value, len};
}

/// libxml2's text for a raw character it refuses: a character beyond ASCII
/// is "out of allowed range" wherever it is; a control character gets the
/// message of the construct it is in (`ascii`).
std::string illegal_message(uint32_t c, const std::string& ascii) {
  if (c < 0x80)
    return ascii;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%X", c);
  return std::string{"Char "} + hex + " out of allowed range";
}

/// Checks the character reference at `i` ("&#...;") as libxml2's
/// `xmlParseCharRef` does: digits up to ';' and a value that is an XML Char.
/// Sets `next` past the reference.
std::optional<illegal_char> check_char_ref(std::string_view text, size_t i, size_t& next) {
  size_t j = i + 2;
  bool hex = j < text.size() && text[j] == 'x';
  if (hex)
    ++j;
  uint64_t value = 0;
  size_t digits = j;
  while (j < text.size() && (hex ? std::isxdigit(static_cast<unsigned char>(text[j]))
                                 : std::isdigit(static_cast<unsigned char>(text[j])))) {
    unsigned char d = static_cast<unsigned char>(text[j]);
    unsigned digit = std::isdigit(d) ? d - '0' : std::tolower(d) - 'a' + 10;
    value = std::min<uint64_t>(value * (hex ? 16 : 10) + digit, 0x110000);
    ++j;
  }
  if (j == digits || j >= text.size() || text[j] != ';')
    return illegal_char{j, hex ? "CharRef: invalid hexadecimal value"
                               : "CharRef: invalid decimal value"};
  next = j + 1;
  if (value > 0x10FFFF)
    return illegal_char{next, "xmlParseCharRef: character reference out of bounds"};
  if (!xml_char(static_cast<uint32_t>(value)))
    return illegal_char{next,
                        "xmlParseCharRef: invalid xmlChar value " + std::to_string(value)};
  return std::nullopt;
}

/// The first character XML 1.0 forbids, raw or as a character reference,
/// with libxml2's message for where it is: text, an attribute value, a tag,
/// a comment, CDATA or a processing instruction. pugixml takes them all as
/// they are, so a name like "a\x01b" would parse, print without the control
/// character (libvirt's escaping drops it) and come back as another name.
/// Text outside the root is left to the "Start tag expected" and "Extra
/// content" checks, as libxml2 reports it. `construct` is set to where the
/// tag, comment or text holding the character begins.
std::optional<illegal_char> first_illegal_char(std::string_view text, size_t& construct) {
  int depth = 0;
  size_t i = 0;
  // Scans [from, end) for a raw illegal character; `ascii` is the message
  // for a control character there.
  auto scan_raw = [&](size_t from, size_t end,
                      const std::string& ascii) -> std::optional<illegal_char> {
    for (size_t k = from; k < end;) {
      auto [c, len] = char_at(text, k);
      if (!xml_char(c))
        return illegal_char{k, illegal_message(c, ascii)};
      k += len;
    }
    return std::nullopt;
  };
  auto find_end = [&](std::string_view terminator, size_t from) {
    auto e = text.find(terminator, from);
    return e == std::string_view::npos ? text.size() : e;
  };
  while (i < text.size()) {
    construct = i;
    if (text.substr(i, 4) == "<!--") {
      size_t end = find_end("-->", i + 4);
      // libxml2 names the control character's code in decimal.
      for (size_t k = i + 4; k < end;) {
        auto [c, len] = char_at(text, k);
        if (!xml_char(c))
          return illegal_char{
            k, illegal_message(c, "xmlParseComment: invalid xmlChar value " + std::to_string(c))};
        k += len;
      }
      i = std::min(end + 3, text.size());
    } else if (text.substr(i, 9) == "<![CDATA[") {
      size_t end = find_end("]]>", i + 9);
      // libxml2 2.9 has no text for this one and says so.
      if (auto bad = scan_raw(i + 9, end, "Unregistered error message"))
        return bad;
      i = std::min(end + 3, text.size());
    } else if (text.substr(i, 2) == "<?") {
      size_t end = find_end("?>", i + 2);
      size_t t = i + 2;
      while (t < end && !std::isspace(static_cast<unsigned char>(text[t])) &&
             static_cast<unsigned char>(text[t]) >= 0x20)
        ++t;
      auto target = std::string{text.substr(i + 2, t - i - 2)};
      if (auto bad = scan_raw(i + 2, end, "ParsePI: PI " + target + " never end ..."))
        return bad;
      i = std::min(end + 2, text.size());
    } else if (text.substr(i, 2) == "<!") {
      i = std::min(find_end(">", i) + 1, text.size()); // a DOCTYPE: libvirt's are plain
    } else if (text.substr(i, 2) == "</") {
      size_t end = find_end(">", i + 2);
      if (auto bad = scan_raw(i + 2, end, "expected '>'"))
        return bad;
      --depth;
      i = std::min(end + 1, text.size());
    } else if (text[i] == '<') {
      // A start tag: its name, then attributes up to '>'.
      size_t k = i + 1;
      while (k < text.size() && text[k] != '>' && text[k] != '/' &&
             !std::isspace(static_cast<unsigned char>(text[k])) &&
             xml_char(char_at(text, k).first))
        k += char_at(text, k).second;
      size_t name_end = k;
      char quote = 0;
      bool after_value = false;
      for (; k < text.size() && (quote || text[k] != '>');) {
        auto [c, len] = char_at(text, k);
        if (quote) {
          if (text[k] == quote) {
            quote = 0;
            after_value = true;
          } else if (text[k] == '&' && k + 1 < text.size() && text[k + 1] == '#') {
            size_t next = k;
            if (auto bad = check_char_ref(text, k, next))
              return bad;
            k = next;
            continue;
          } else if (!xml_char(c)) {
            return illegal_char{k, illegal_message(c, "invalid character in attribute value")};
          }
        } else if (text[k] == '\'' || text[k] == '"') {
          quote = text[k];
        } else if (!xml_char(c)) {
          if (after_value)
            return illegal_char{k, illegal_message(c, "attributes construct error")};
          // The line is counted only here: a document may hold a million tags.
          return illegal_char{
            k, illegal_message(c, "Couldn't find end of Start Tag " +
                                    std::string{text.substr(i + 1, name_end - i - 1)} +
                                    " line " + std::to_string(line_of(text, i)))};
        } else {
          after_value = false;
        }
        k += len;
      }
      if (k > i + 1 && text[k - 1] != '/')
        ++depth;
      i = std::min(k + 1, text.size());
    } else {
      // Text: checked inside the root only.
      size_t end = find_end("<", i);
      for (size_t k = i; depth > 0 && k < end;) {
        if (text[k] == '&' && k + 1 < text.size() && text[k + 1] == '#') {
          size_t next = k;
          if (auto bad = check_char_ref(text, k, next))
            return bad;
          k = next;
          continue;
        }
        auto [c, len] = char_at(text, k);
        if (!xml_char(c))
          return illegal_char{
            k, illegal_message(c, "PCDATA invalid Char value " + std::to_string(c))};
        k += len;
      }
      i = end;
    }
  }
  return std::nullopt;
}

size_t first_non_blank(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
  return i;
}

bool blank(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)))
      return false;
  return true;
}

} // namespace

virt_error make_error(error_code code, error_domain domain, std::string_view msg) {
  std::string_view prefix;
  switch (code) {
    case error_code::internal_error:
      prefix = "internal error: ";
      break;
    case error_code::xml_error:
      prefix = "XML error: ";
      break;
    case error_code::config_unsupported:
      prefix = "unsupported configuration: ";
      break;
    case error_code::invalid_arg:
      prefix = "invalid argument: ";
      break;
    case error_code::operation_failed:
      prefix = "operation failed: ";
      break;
    case error_code::overflow:
      prefix = "numerical overflow: ";
      break;
    default:
      break;
  }
  std::string full{prefix};
  full += msg;
  return make_virt_error(code, domain, std::move(full));
}

namespace {

std::atomic<uint64_t> limit_size{document_limits{}.max_size};
std::atomic<uint32_t> limit_depth{document_limits{}.max_depth};

} // namespace

void set_document_limits(const document_limits& limits) {
  limit_size = limits.max_size;
  limit_depth = limits.max_depth;
}

document_limits current_document_limits() {
  return {limit_size.load(), limit_depth.load()};
}

result<void> check_document_size(size_t size, std::string_view name, error_domain domain) {
  auto max = limit_size.load();
  if (size <= max)
    return {};
  return make_virt_error(error_code::xml_detail, domain,
                         std::string{name} + ": the document has " + std::to_string(size) +
                           " bytes, more than " + std::to_string(max) + " (max_xml_size)");
}

result<void> check_document_depth(const pugi::xml_node& doc, std::string_view name,
                                  error_domain domain) {
  // Iterative walk: a hostile document must not take the stack with it.
  auto max = limit_depth.load();
  uint32_t depth = 0;
  auto node = doc.first_child();
  while (node) {
    if (node.type() == pugi::node_element && depth + 1 > max)
      return make_virt_error(error_code::xml_detail, domain,
                             std::string{name} + ": Excessive depth in document: " +
                               std::to_string(max) + " (max_xml_depth)");
    if (auto child = node.first_child()) {
      ++depth;
      node = child;
      continue;
    }
    while (node && !node.next_sibling()) {
      node = node.parent();
      if (node == doc)
        return {};
      --depth;
    }
    if (node)
      node = node.next_sibling();
  }
  return {};
}

result<void> load_document(pugi::xml_document& doc, std::string_view text, const doc_kind& kind) {
  VA_XML_CHECK(check_document_size(text.size(), kind.name, kind.domain));
  // libvirt takes the document as a C string: it ends at a NUL byte.
  text = text.substr(0, text.find('\0'));
  if (text.empty()) {
    // libxml2 has no line to show; libvirt prints "(null)".
    return make_virt_error(error_code::xml_detail, kind.domain,
                           std::string{kind.name} + ":1: Document is empty\n(null)\n^");
  }
  size_t construct = 0;
  auto illegal = first_illegal_char(text, construct);
  // parse_fragment keeps text outside the root, which libxml2 refuses.
  auto options = pugi::parse_default | pugi::parse_ws_pcdata | pugi::parse_fragment;
  auto res = doc.load_buffer(text.data(), text.size(), options, pugi::encoding_utf8);
  // libxml2 reports the first fault in the text: a forbidden character wins
  // unless pugixml stops before the tag (comment, text) that holds it.
  if (illegal &&
      (res || static_cast<size_t>(std::max<std::ptrdiff_t>(res.offset, 0)) >= construct))
    return detail_error(text, illegal->pos, illegal->message, kind);
  if (!res) {
    auto pos = static_cast<size_t>(std::max<std::ptrdiff_t>(res.offset, 0));
    std::string message;
    switch (res.status) {
      case pugi::status_no_document_element:
        pos = first_non_blank(text);
        message = "Start tag expected, '<' not found";
        break;
      case pugi::status_end_element_mismatch: {
        auto stack = open_tags_at(text, pos);
        if (pos >= text.size() || text.substr(pos).find('<') == std::string_view::npos) {
          pos = text.size();
          auto tags = open_tags_at(text, text.size());
          if (!tags.empty()) {
            message = "Premature end of data in tag " + tags.back().name + " line " +
                      std::to_string(tags.back().line);
            break;
          }
        }
        // pugixml points into the closing tag; name it as libxml2 does.
        size_t lt = text.rfind("</", pos);
        std::string closing;
        if (lt != std::string_view::npos) {
          stack = open_tags_at(text, lt);
          size_t e = lt + 2;
          while (e < text.size() && text[e] != '>' &&
                 !std::isspace(static_cast<unsigned char>(text[e])))
            ++e;
          closing = std::string{text.substr(lt + 2, e - lt - 2)};
          pos = e < text.size() ? e + 1 : e;
        }
        if (!stack.empty())
          message = "Opening and ending tag mismatch: " + stack.back().name + " line " +
                    std::to_string(stack.back().line) + " and " + closing;
        else
          message = res.description();
        break;
      }
      case pugi::status_bad_attribute:
        message = "AttValue: \" or ' expected";
        break;
      case pugi::status_bad_end_element:
        // libxml2 points past the last character it read.
        message = "expected '>'";
        pos = std::min(pos + 1, text.size());
        break;
      default:
        if (pos >= text.size()) {
          auto tags = open_tags_at(text, text.size());
          if (!tags.empty()) {
            message = "Premature end of data in tag " + tags.back().name + " line " +
                      std::to_string(tags.back().line);
            break;
          }
        }
        message = res.description();
        break;
    }
    return detail_error(text, pos, message, kind);
  }
  if (auto entity = undefined_entity(text))
    return detail_error(text, entity->second, "Entity '" + entity->first + "' not defined", kind);
  // pugixml accepts what libxml2 calls extra content: a second root element
  // or text after the root.
  pugi::xml_node root;
  for (auto node : doc.children()) {
    bool extra = false;
    if (node.type() == pugi::node_element) {
      if (root)
        extra = true;
      else
        root = node;
    } else if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (!blank(node.value()))
        extra = true;
    }
    if (extra && root)
      return detail_error(text, root_end(text), "Extra content at the end of the document", kind);
    if (extra)
      return detail_error(text, first_non_blank(text), "Start tag expected, '<' not found", kind);
  }
  if (!root)
    return detail_error(text, first_non_blank(text), "Start tag expected, '<' not found", kind);
  VA_XML_CHECK(check_document_depth(doc, kind.name, kind.domain));
  if (std::string_view{root.name()} != kind.root)
    return make_error(error_code::xml_error, error_domain::xml,
                      "expecting root element of '" + std::string{kind.root} + "', not '" +
                          root.name() + "'");
  return {};
}

std::string text_of(pugi::xml_node node) {
  // Iterative: a hostile document may nest elements arbitrarily deep.
  std::string out;
  auto cur = node.first_child();
  while (cur && cur != node) {
    if (cur.type() == pugi::node_pcdata || cur.type() == pugi::node_cdata)
      out += cur.value();
    if (cur.type() == pugi::node_element && cur.first_child()) {
      cur = cur.first_child();
      continue;
    }
    while (cur != node && !cur.next_sibling())
      cur = cur.parent();
    if (cur != node)
      cur = cur.next_sibling();
  }
  return out;
}

std::optional<std::string> child_text(pugi::xml_node parent, const char* name) {
  auto node = parent.child(name);
  if (!node)
    return std::nullopt;
  auto text = text_of(node);
  if (text.empty())
    return std::nullopt;
  return text;
}

std::optional<std::string> attr_of(pugi::xml_node node, const char* name) {
  auto a = node.attribute(name);
  if (!a)
    return std::nullopt;
  return std::string{a.value()};
}

namespace {

virt_error missing_attr(pugi::xml_node node, const char* name) {
  return make_error(error_code::xml_error, error_domain::xml,
                    std::string{"Missing required attribute '"} + name + "' in element '" +
                        node.name() + "'");
}

virt_error invalid_attr(pugi::xml_node node, const char* name, std::string_view value,
                        std::string_view expected) {
  std::string msg = std::string{"Invalid value for attribute '"} + name + "' in element '" +
                    node.name() + "': '" + std::string{value} + "'.";
  if (!expected.empty()) {
    msg += ' ';
    msg += expected;
  }
  return make_error(error_code::xml_error, error_domain::xml, msg);
}

} // namespace

result<std::optional<std::string>> prop_enum(pugi::xml_node node, const char* name,
                                             std::initializer_list<std::string_view> values,
                                             bool required) {
  auto value = attr_of(node, name);
  if (!value) {
    if (required)
      return missing_attr(node, name);
    return std::optional<std::string>{};
  }
  for (auto v : values)
    if (v == *value)
      return value;
  return invalid_attr(node, name, *value, "");
}

result<xdr::uuid> uuid_element(pugi::xml_node root, const std::optional<xdr::uuid>& fallback,
                               const virt_error& malformed) {
  auto text = child_text(root, "uuid");
  if (!text)
    return fallback ? *fallback : random_uuid();
  auto u = parse_uuid(*text);
  if (!u)
    return malformed;
  return *u;
}

result<std::optional<std::string>> prop_string(pugi::xml_node node, const char* name,
                                               bool required) {
  auto value = attr_of(node, name);
  if (!value && required)
    return missing_attr(node, name);
  return value;
}

result<std::optional<uint32_t>> prop_uint(pugi::xml_node node, const char* name, int base,
                                          bool required) {
  auto value = attr_of(node, name);
  if (!value) {
    if (required)
      return missing_attr(node, name);
    return std::optional<uint32_t>{};
  }
  auto n = to_uint(*value, base);
  if (!n)
    return invalid_attr(node, name, *value, "Expected non-negative integer value");
  return std::optional<uint32_t>{*n};
}

result<std::optional<int32_t>> prop_int(pugi::xml_node node, const char* name, bool required) {
  auto value = attr_of(node, name);
  if (!value) {
    if (required)
      return missing_attr(node, name);
    return std::optional<int32_t>{};
  }
  auto n = to_int(*value);
  if (!n)
    return invalid_attr(node, name, *value, "Expected integer value");
  return std::optional<int32_t>{*n};
}

result<std::optional<bool>> prop_bool(pugi::xml_node node, const char* name, bool on_off) {
  auto value = attr_of(node, name);
  if (!value)
    return std::optional<bool>{};
  if (*value == (on_off ? "on" : "yes"))
    return std::optional<bool>{true};
  if (*value == (on_off ? "off" : "no"))
    return std::optional<bool>{false};
  return invalid_attr(node, name, *value, "");
}

namespace {

/// strtoull/strtoll with libvirt's checks: something parsed, all consumed.
template <class T, class F> std::optional<T> parse_whole(std::string_view s, int base, F f) {
  std::string buf{s};
  if (buf.empty())
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  auto v = f(buf.c_str(), &end, base);
  if (errno != 0 || end == buf.c_str() || *end != '\0')
    return std::nullopt;
  return static_cast<T>(v);
}

bool has_minus(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
    ++i;
  return i < s.size() && s[i] == '-';
}

} // namespace

std::optional<uint64_t> to_ull(std::string_view s) {
  if (has_minus(s))
    return std::nullopt;
  return parse_whole<uint64_t>(s, 10, std::strtoull);
}

std::optional<int64_t> to_ll(std::string_view s) {
  return parse_whole<int64_t>(s, 10, std::strtoll);
}

std::optional<uint32_t> to_uint(std::string_view s, int base) {
  if (has_minus(s))
    return std::nullopt;
  auto v = parse_whole<uint64_t>(s, base, std::strtoull);
  if (!v || *v > UINT32_MAX)
    return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<int32_t> to_int(std::string_view s) {
  auto v = parse_whole<int64_t>(s, 10, std::strtoll);
  if (!v || *v > INT32_MAX || *v < INT32_MIN)
    return std::nullopt;
  return static_cast<int32_t>(*v);
}

namespace {

/// Which serialiser's escaping to reproduce.
enum class escaping { libvirt, libxml2_text, libxml2_attribute };

/// The one XML escaper: libvirt's `virBufferEscapeString` (also `"` and `'`;
/// control characters other than tab and line ends cannot appear in XML and
/// vanish) or libxml2's `xmlNodeDump` (CR as a reference; in attributes also
/// `"`, LF and TAB, which attribute normalisation would lose).
std::string escape_as(std::string_view s, escaping how) {
  bool attribute = how == escaping::libxml2_attribute;
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '&':
        out += "&amp;";
        continue;
      default:
        break;
    }
    if (how == escaping::libvirt) {
      if (c == '"')
        out += "&quot;";
      else if (c == '\'')
        out += "&apos;";
      else if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t' || c == '\r')
        out += c;
      continue;
    }
    if (c == '\r')
      out += "&#13;";
    else if (attribute && c == '"')
      out += "&quot;";
    else if (attribute && c == '\n')
      out += "&#10;";
    else if (attribute && c == '\t')
      out += "&#9;";
    else
      out += c;
  }
  return out;
}

} // namespace

std::string escape(std::string_view s) {
  return escape_as(s, escaping::libvirt);
}

std::string escape_libxml2(std::string_view s, bool attribute) {
  return escape_as(s, attribute ? escaping::libxml2_attribute : escaping::libxml2_text);
}

std::string attr(std::string_view name, std::string_view value) {
  std::string out{" "};
  out += name;
  out += "='";
  out += escape(value);
  out += '\'';
  return out;
}

void xml_writer::line(std::string_view text) {
  out_.append(static_cast<size_t>(depth_) * 2, ' ');
  out_ += text;
  out_ += '\n';
}

std::optional<std::string> parse_mac(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  for (int group = 0; group < 6; ++group) {
    if (i >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i])))
      return std::nullopt;
    unsigned value = 0;
    size_t digits = 0;
    while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(text[i]))
                                                     ? text[i] - '0'
                                                     : std::tolower(text[i]) - 'a' + 10);
      if (++digits > 2 && value > 255)
        return std::nullopt;
      ++i;
    }
    if (value > 255)
      return std::nullopt;
    if (group > 0)
      out += ':';
    out += hex[value >> 4];
    out += hex[value & 0xf];
    if (group < 5) {
      if (i >= text.size() || text[i] != ':')
        return std::nullopt;
      ++i;
    }
  }
  if (i != text.size())
    return std::nullopt;
  return out;
}

bool mac_is_multicast(std::string_view canonical) {
  if (canonical.size() < 2)
    return false;
  char c = canonical[1];
  unsigned low = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'a' + 10;
  return (low & 1) != 0;
}

std::string random_mac() {
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out = "52:54:00";
  for (int i = 0; i < 3; ++i) {
    auto b = static_cast<unsigned>(rd() & 0xff);
    out += ':';
    out += hex[b >> 4];
    out += hex[b & 0xf];
  }
  return out;
}

} // namespace virtactor::drivers::xml
