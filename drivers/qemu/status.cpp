#include "drivers/qemu/status.hpp"

#include <sstream>

#include <pugixml.hpp>

#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::qemu {

namespace {

const char* yes_no(bool b) {
  return b ? "yes" : "no";
}

virt_error broken(const std::string& why) {
  return make_virt_error(error_code::xml_error, error_domain::qemu,
                         "XML error: status file: " + why);
}

} // namespace

std::string format_status(const domain_status& s) {
  using xml::attr;
  std::string out = "<domstatus" + attr("id", std::to_string(s.id)) +
                    attr("state", std::to_string(s.state)) +
                    attr("reason", std::to_string(s.reason)) + attr("pid", std::to_string(s.pid)) +
                    attr("starttime", std::to_string(s.start_time)) +
                    attr("persistent", yes_no(s.persistent)) +
                    attr("autostart", yes_no(s.autostart)) + ">\n";
  out += "  <monitor" + attr("path", s.monitor_path) + "/>\n";
  out += "  <domaindir" + attr("path", s.domain_dir) + "/>\n";
  for (auto& [label, file] : s.chardevs)
    out += "  <chardev" + attr("label", label) + attr("filename", file) + "/>\n";
  for (int port : s.graphics_ports)
    out += "  <graphics" + attr("port", std::to_string(port)) + "/>\n";
  out += "  <balloon" + attr("current", std::to_string(s.balloon_kib)) + "/>\n";
  out += "  <flags" + attr("shutdown", yes_no(s.shutdown_seen)) +
         attr("fakereboot", yes_no(s.fake_reboot)) + "/>\n";
  for (auto& o : s.owners)
    out += "  <owner" + attr("path", o.path) + attr("uid", std::to_string(o.uid)) +
           attr("gid", std::to_string(o.gid)) + "/>\n";
  out += s.definition;
  if (!s.definition.empty() && s.definition.back() != '\n')
    out += "\n";
  out += "</domstatus>\n";
  return out;
}

result<domain_status> parse_status(std::string_view text) {
  pugi::xml_document doc;
  if (!doc.load_buffer(text.data(), text.size()))
    return broken("not well-formed");
  auto root = doc.child("domstatus");
  if (!root)
    return broken("no <domstatus>");
  domain_status s;
  auto number = [&](const char* name, auto& out) -> bool {
    auto a = root.attribute(name);
    if (!a)
      return false;
    std::istringstream in{a.value()};
    in >> out;
    return !in.fail();
  };
  if (!number("id", s.id) || !number("state", s.state) || !number("reason", s.reason) ||
      !number("pid", s.pid) || !number("starttime", s.start_time))
    return broken("missing or bad attributes");
  s.persistent = std::string_view{root.attribute("persistent").value()} == "yes";
  s.autostart = std::string_view{root.attribute("autostart").value()} == "yes";
  s.monitor_path = root.child("monitor").attribute("path").value();
  s.domain_dir = root.child("domaindir").attribute("path").value();
  for (auto c : root.children("chardev"))
    s.chardevs[c.attribute("label").value()] = c.attribute("filename").value();
  for (auto g : root.children("graphics"))
    s.graphics_ports.push_back(g.attribute("port").as_int());
  s.balloon_kib = root.child("balloon").attribute("current").as_ullong();
  auto flags = root.child("flags");
  s.shutdown_seen = std::string_view{flags.attribute("shutdown").value()} == "yes";
  s.fake_reboot = std::string_view{flags.attribute("fakereboot").value()} == "yes";
  for (auto o : root.children("owner")) {
    auto uid = o.attribute("uid");
    auto gid = o.attribute("gid");
    if (!*o.attribute("path").value() || !uid || !gid)
      return broken("bad <owner>");
    s.owners.push_back(file_owner{o.attribute("path").value(), uid.as_uint(), gid.as_uint()});
  }
  auto dom = root.child("domain");
  if (!dom)
    return broken("no <domain>");
  std::ostringstream xml;
  dom.print(xml, "  ", pugi::format_default | pugi::format_no_declaration);
  s.definition = xml.str();
  if (s.pid <= 0 || s.monitor_path.empty())
    return broken("no process or monitor");
  return s;
}

} // namespace virtactor::drivers::qemu
