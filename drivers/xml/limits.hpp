/// Bounds on the XML documents the model parses from outside: their size and
/// how deep their elements nest. In-process callers get no limit (the model
/// walks documents without recursion); a daemon sets both from its
/// configuration before its first client (`max_xml_size`, and
/// `max_xml_depth`, 256 by default: libxml2's limit, which libvirt inherits).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include <pugixml.hpp>

#include "protocol/error.hpp"

namespace virtactor::drivers::xml {

struct document_limits {
  uint64_t max_size = std::numeric_limits<uint64_t>::max();
  uint32_t max_depth = std::numeric_limits<uint32_t>::max();
};

/// Sets the limits for the whole process (thread-safe).
void set_document_limits(const document_limits& limits);

/// The limits in force.
document_limits current_document_limits();

/// Refuses `size` bytes of XML over the size limit, before any parsing:
/// VIR_ERR_XML_DETAIL in `domain`, naming the document as libxml2 would.
result<void> check_document_size(size_t size, std::string_view name, error_domain domain);

/// Refuses a parsed document whose elements nest deeper than the limit.
result<void> check_document_depth(const pugi::xml_node& doc, std::string_view name,
                                  error_domain domain);

} // namespace virtactor::drivers::xml
