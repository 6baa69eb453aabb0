/// Shared plumbing of the XML model (internal to `va_xml`): loading a document
/// with libvirt's error reports, reading text and attributes with libvirt's
/// rules and messages, and writing indented XML the way libvirt's buffer does.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

/// Declares `name` from `expr`, a `result<T>`, or returns its error.
#define VA_XML_TRY(name, expr)                                                                     \
  auto name##_result_ = (expr);                                                                    \
  if (!name##_result_)                                                                             \
    return name##_result_.error();                                                                 \
  auto name = std::move(*name##_result_)

/// Returns the error of `expr`, a `result<void>`, if any.
#define VA_XML_CHECK(expr)                                                                         \
  do {                                                                                             \
    if (auto check_result_ = (expr); !check_result_)                                               \
      return check_result_.error();                                                                \
  } while (false)

namespace virtactor::drivers::xml {

/// What a loaded document reports its errors as.
struct doc_kind {
  std::string_view root; ///< expected root element, e.g. "domain"
  std::string_view name; ///< libxml2's file name, e.g. "(domain_definition)"
  error_domain domain;   ///< error domain of parse errors
};

/// Parses `text` into `doc` and checks the root element. Malformed XML gives
/// VIR_ERR_XML_DETAIL in `kind.domain` with libxml2's "FILE:LINE: " prefix; a
/// wrong root gives VIR_ERR_XML_ERROR in VIR_FROM_XML.
result<void> load_document(pugi::xml_document& doc, std::string_view text, const doc_kind& kind);

/// `code` in `domain` with libvirt's standard prefix for `code` before `msg`.
virt_error make_error(error_code code, error_domain domain, std::string_view msg);

/// The XPath `string()` value of `node`: all descendant text, concatenated.
std::string text_of(pugi::xml_node node);

/// The text of the first child element `name` of `parent`, or nothing when
/// the element is absent or its text is empty (libvirt's `virXPathString`).
std::optional<std::string> child_text(pugi::xml_node parent, const char* name);

/// The attribute `name` of `node` (possibly empty), or nothing when absent.
std::optional<std::string> attr_of(pugi::xml_node node, const char* name);

/// libvirt's `virXMLProp*` helpers: errors are VIR_ERR_XML_ERROR in VIR_FROM_XML
/// and name the attribute, element and value.
result<std::optional<std::string>> prop_enum(pugi::xml_node node, const char* name,
                                             std::initializer_list<std::string_view> values,
                                             bool required = false);
result<std::optional<uint32_t>> prop_uint(pugi::xml_node node, const char* name, int base,
                                          bool required = false);
result<std::optional<int32_t>> prop_int(pugi::xml_node node, const char* name,
                                        bool required = false);
/// The `<uuid>` child of `root`: parsed, else `fallback`, else random. A
/// malformed one gives `malformed`.
result<xdr::uuid> uuid_element(pugi::xml_node root, const std::optional<xdr::uuid>& fallback,
                               const virt_error& malformed);

/// A plain string attribute; a missing required one is an error.
result<std::optional<std::string>> prop_string(pugi::xml_node node, const char* name,
                                               bool required);
/// A yes/no (or on/off when `on_off`) attribute.
result<std::optional<bool>> prop_bool(pugi::xml_node node, const char* name, bool on_off);

/// libvirt's `virStrToLong_ullp`: optional leading blanks and '+', decimal
/// digits to the end, no sign '-', no overflow.
std::optional<uint64_t> to_ull(std::string_view s);
/// libvirt's `virStrToLong_ll` (base 10).
std::optional<int64_t> to_ll(std::string_view s);
/// libvirt's `virStrToLong_uip` for `base` (0, 8, 10 or 16).
std::optional<uint32_t> to_uint(std::string_view s, int base);
/// libvirt's `virStrToLong_i` (base 10).
std::optional<int32_t> to_int(std::string_view s);

/// Escapes text and attribute values as libvirt's `virBufferEscapeString`.
std::string escape(std::string_view s);

/// Escapes as libxml2's serialiser does (`xmlNodeDump`, what virsh prints
/// for XML it re-serialises): `<>&` and CR always; in attribute values also
/// `"`, LF and TAB, which attribute normalisation would lose.
std::string escape_libxml2(std::string_view s, bool attribute);

/// ` name='value'` with `value` escaped.
std::string attr(std::string_view name, std::string_view value);

/// Indented line-by-line XML output (two spaces a level).
class xml_writer {
public:
  /// Appends one line at the current indentation.
  void line(std::string_view text);
  /// Appends `text` and goes one level deeper.
  void open(std::string_view text) {
    line(text);
    ++depth_;
  }
  /// Goes one level up and appends `text`.
  void close(std::string_view text) {
    --depth_;
    line(text);
  }
  std::string str() && { return std::move(out_); }

private:
  std::string out_;
  int depth_ = 0;
};

/// Parses a MAC address as libvirt's `virMacAddrParse` ("a:b:c:d:e:f", one or
/// two hex digits a group) into its canonical lower-case form.
std::optional<std::string> parse_mac(std::string_view text);

/// True for a multicast MAC address (canonical form).
bool mac_is_multicast(std::string_view canonical);

/// A random MAC with libvirt's default prefix 52:54:00.
std::string random_mac();

} // namespace virtactor::drivers::xml
