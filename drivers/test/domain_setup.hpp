/// How the test driver turns domain XML into a definition: flag checks, the
/// XML model's parser, the define-only name check, and the `testnetN` names
/// it gives interfaces without a target device.
#pragma once

#include <cstdint>
#include <string_view>

#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::test {

/// The test driver's parse defaults: its capabilities offer i686 guests only.
xml::domain_parse parse_options();

/// DOMAIN_DEFINE_XML(_FLAGS): `testDomainDefineXMLFlags` up to the domain
/// list (flags, parse, name check, interface names).
result<xml::domain_def> parse_for_define(std::string_view xml, uint32_t flags);

/// DOMAIN_CREATE_XML: `testDomainCreateXML` up to the domain list.
result<xml::domain_def> parse_for_create(std::string_view xml, uint32_t flags);

/// `testDomainGenerateIfnames`: each interface without a target device gets
/// the first "testnetN" no interface of `def` uses.
result<void> generate_ifnames(xml::domain_def& def);

} // namespace virtactor::drivers::test
