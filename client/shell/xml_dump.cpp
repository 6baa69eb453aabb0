#include "client/shell/xml_dump.hpp"

#include <vector>

#include <pugixml.hpp>

#include "client/shell/shell.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::client::shell {

namespace {

std::string dump_attr(const pugi::xml_attribute& a) {
  return std::string{" "} + a.name() + "=\"" + drivers::xml::escape_libxml2(a.value(), true) + "\"";
}

/// `xmlNodeDumpOutput` with format=1: children of an element are indented
/// two spaces per level unless the element holds text, which disables
/// formatting for its subtree.
void dump_node(const pugi::xml_node& n, int level, bool fmt, std::string& out) {
  switch (n.type()) {
    case pugi::node_pcdata:
      out += drivers::xml::escape_libxml2(n.value(), false);
      return;
    case pugi::node_cdata:
      out += std::string{"<![CDATA["} + n.value() + "]]>";
      return;
    case pugi::node_comment:
      out += std::string{"<!--"} + n.value() + "-->";
      return;
    case pugi::node_pi:
      out += std::string{"<?"} + n.name();
      if (*n.value() != '\0')
        out += std::string{" "} + n.value();
      out += "?>";
      return;
    case pugi::node_document:
      out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
      for (auto c : n.children()) {
        dump_node(c, 0, true, out);
        out += "\n";
      }
      if (!out.empty() && out.back() == '\n')
        out.pop_back();
      return;
    case pugi::node_element:
      break;
    default:
      return;
  }
  out += std::string{"<"} + n.name();
  for (auto a : n.attributes())
    out += dump_attr(a);
  if (!n.first_child()) {
    out += "/>";
    return;
  }
  out += ">";
  bool child_fmt = fmt;
  for (auto c : n.children())
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata)
      child_fmt = false;
  if (child_fmt)
    out += "\n";
  for (auto c : n.children()) {
    if (child_fmt)
      out.append(static_cast<size_t>(2 * (level + 1)), ' ');
    dump_node(c, level + 1, child_fmt, out);
    if (child_fmt)
      out += "\n";
  }
  if (child_fmt)
    out.append(static_cast<size_t>(2 * level), ' ');
  out += std::string{"</"} + n.name() + ">";
}

std::string dump_xpath_node(const pugi::xpath_node& xn) {
  std::string out;
  if (xn.attribute())
    out = dump_attr(xn.attribute());
  else
    dump_node(xn.node(), 0, true, out);
  return out;
}

} // namespace

bool load_domain_xml(shell& sh, const protocol::nonnull_domain& dom, pugi::xml_document& doc) {
  auto xml = sh.call<protocol::proc::domain_get_xml_desc>({dom, 0});
  if (!xml)
    return false;
  if (!doc.load_string(xml->xml.c_str())) {
    sh.save_error(make_virt_error(error_code::xml_error, error_domain::none,
                                  "XML error: failed to parse domain XML"));
    return false;
  }
  return true;
}

bool dump_xml(shell& sh, const std::string& xml, const std::optional<std::string>& xpath,
              bool wrap) {
  if (!xpath) {
    sh.out().print(xml);
    return true;
  }
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_comments)) {
    sh.save_error(make_virt_error(error_code::xml_error, error_domain::none,
                                  "XML error: failed to parse xml document"));
    return false;
  }
  pugi::xpath_node_set nodes;
  try {
    pugi::xpath_query query{xpath->c_str()};
    if (query.return_type() != pugi::xpath_type_node_set) {
      sh.save_error(make_virt_error(error_code::internal_error, error_domain::none,
                                    "internal error: Incorrect xpath '" + *xpath + "'"));
      return false;
    }
    nodes = query.evaluate_node_set(doc);
  } catch (const pugi::xpath_exception&) {
    // libxml2 reports a bad expression itself and returns no nodes.
    sh.out().print_err("XPath error : Invalid expression\n");
  }
  nodes.sort();
  if (wrap) {
    pugi::xml_document wrapped;
    auto root = wrapped.append_child("nodes");
    for (const auto& xn : nodes) {
      if (xn.attribute()) {
        root.remove_attribute(xn.attribute().name());
        root.append_attribute(xn.attribute().name()) = xn.attribute().value();
      } else if (xn.node().type() == pugi::node_pcdata &&
                 root.last_child().type() == pugi::node_pcdata) {
        std::string merged = std::string{root.last_child().value()} + xn.node().value();
        root.last_child().set_value(merged.c_str());
      } else {
        root.append_copy(xn.node());
      }
    }
    std::string out;
    dump_node(root, 0, true, out);
    sh.out().print(out + "\n");
    return true;
  }
  std::string out;
  for (const auto& xn : nodes)
    out += dump_xpath_node(xn) + "\n";
  sh.out().print(out);
  return true;
}

} // namespace virtactor::client::shell
