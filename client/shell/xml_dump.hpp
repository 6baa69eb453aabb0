/// XML the commands read: the shared tail of dumpxml, net-dumpxml,
/// pool-dumpxml and vol-dumpxml (the document, or the nodes an `--xpath`
/// selects, serialised as libxml2 formats them for virsh: `virshDumpXML`),
/// and a domain's definition parsed for a command that inspects it.
#pragma once

#include <optional>
#include <string>

#include <pugixml.hpp>

#include "protocol/remote_protocol.hpp"

namespace virtactor::client::shell {

class shell;

/// Prints `xml`, or with `xpath` each selected node (with `wrap` all of
/// them inside one `<nodes>` element). False after reporting an error.
bool dump_xml(shell& sh, const std::string& xml, const std::optional<std::string>& xpath,
              bool wrap);

/// Parses the live definition of `dom` into `doc`; false with the command's
/// libvirt error set.
bool load_domain_xml(shell& sh, const protocol::nonnull_domain& dom, pugi::xml_document& doc);

} // namespace virtactor::client::shell
