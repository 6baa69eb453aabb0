/// Internal to the qemu driver's definitions: the refusals of what it does not
/// implement (domain_def.cpp uses them; they are tested through
/// `qemu::parse_domain`).
#pragma once

#include <string_view>

#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"

namespace pugi {
class xml_node;
}

namespace virtactor::drivers::qemu::detail {

/// VIR_ERR_CONFIG_UNSUPPORTED in VIR_FROM_QEMU: "<what> is not supported by
/// virtactor's qemu driver".
virt_error not_supported(std::string_view what);

/// Refuses every element and attribute of `<domain>` outside the elements the
/// driver knows (one table, in support.cpp): an element of libvirt's schema
/// that would change the guest and is not implemented is never dropped.
result<void> check_elements(const pugi::xml_node& domain);

/// Refuses the values the driver does not implement in a parsed definition
/// (types, models, buses, modes), before the driver fills in its defaults.
result<void> check_values(const xml::domain_def& def);

} // namespace virtactor::drivers::qemu::detail
