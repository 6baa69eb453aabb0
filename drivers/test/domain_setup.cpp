#include "drivers/test/domain_setup.hpp"

#include <algorithm>
#include <string>

#include "drivers/test/errors.hpp"

namespace virtactor::drivers::test {

namespace {

constexpr uint32_t define_validate = 1; // VIR_DOMAIN_DEFINE_VALIDATE
constexpr uint32_t start_validate = 16; // VIR_DOMAIN_START_VALIDATE
constexpr int max_ifnames = 1024;

} // namespace

xml::domain_parse parse_options() {
  xml::domain_parse opts;
  opts.default_arch = "i686";
  return opts;
}

result<void> generate_ifnames(xml::domain_def& def) {
  auto& nets = def.devices.interfaces;
  for (auto& net : nets) {
    if (!net.target_dev.empty())
      continue;
    int n = 0;
    for (; n < max_ifnames; ++n) {
      auto name = "testnet" + std::to_string(n);
      bool used = std::any_of(nets.begin(), nets.end(),
                              [&](const xml::interface_def& x) { return x.target_dev == name; });
      if (!used) {
        net.target_dev = name;
        break;
      }
    }
    if (n == max_ifnames)
      return errors::internal("Exceeded max iface limit " + std::to_string(max_ifnames));
  }
  return {};
}

result<xml::domain_def> parse_for_define(std::string_view text, uint32_t flags) {
  if (!errors::flags_ok(flags, define_validate))
    return errors::unsupported_flags(flags & ~define_validate, "testDomainDefineXMLFlags");
  auto def = xml::parse_domain(text, parse_options());
  if (!def)
    return def.error();
  if (auto nl = def->name.find('\n'); nl != std::string::npos)
    return make_virt_error(error_code::xml_detail, error_domain::xml, "invalid char in name: \n");
  if (auto ok = generate_ifnames(*def); !ok)
    return ok.error();
  return def;
}

result<xml::domain_def> parse_for_create(std::string_view text, uint32_t flags) {
  if (!errors::flags_ok(flags, start_validate))
    return errors::unsupported_flags(flags & ~start_validate, "testDomainCreateXML");
  auto def = xml::parse_domain(text, parse_options());
  if (!def)
    return def.error();
  if (auto ok = generate_ifnames(*def); !ok)
    return ok.error();
  return def;
}

} // namespace virtactor::drivers::test
