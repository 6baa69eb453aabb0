/// The shared tail of dumpxml, net-dumpxml, pool-dumpxml and vol-dumpxml:
/// print the document, or the nodes an `--xpath` selects, serialised the way
/// libxml2 formats them for virsh (`virshDumpXML`).
#pragma once

#include <optional>
#include <string>

namespace virtactor::client::shell {

class shell;

/// Prints `xml`, or with `xpath` each selected node (with `wrap` all of
/// them inside one `<nodes>` element). False after reporting an error.
bool dump_xml(shell& sh, const std::string& xml, const std::optional<std::string>& xpath,
              bool wrap);

} // namespace virtactor::client::shell
