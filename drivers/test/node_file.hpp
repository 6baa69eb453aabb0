/// libvirt's custom test driver configuration: a `<node>` document with the
/// host's `<cpu>` and `<memory>`, and `<domain>`, `<network>` and `<pool>`
/// (with nested `<volume>`) elements, each inline or in a file named by a
/// `file=` attribute relative to the node file. test:///default is such a
/// document too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/open_options.hpp"
#include "drivers/test/node.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "drivers/xml/network_xml.hpp"
#include "drivers/xml/storage_xml.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::test {

/// A domain of a node configuration, with the test driver's namespace
/// extensions (`<test:runstate>`, `<test:transient/>`, `<test:hasmanagedsave/>`
/// in namespace http://libvirt.org/schemas/domain/test/1.0).
struct node_domain {
  xml::domain_def def;
  int32_t runstate = 1; ///< virDomainState; running unless given
  bool transient = false;
  bool has_managed_save = false;
};

/// A pool of a node configuration with its volumes.
struct node_pool {
  xml::pool_def def;
  std::vector<xml::volume_def> volumes;
};

/// Everything a node document describes, in document order.
struct node_config {
  node_description node;
  std::vector<node_domain> domains;
  std::vector<xml::network_def> networks;
  std::vector<node_pool> pools;
};

/// Loads the node file at absolute path `path`, with libvirt's errors for a
/// missing, unreadable or broken file or sub-file. Every file is read as
/// `access` says (null: as this process, within the default bounds): only
/// regular files, none over its size bound, as its user.
result<node_config> load_node_file(const std::string& path, const file_access* access = nullptr);

/// Whether the node file at `path` may be read, and parses, for `access`
/// (checked on every open: a test state another client opened is shared).
result<void> check_node_file(const std::string& path, const file_access& access);

/// test:///default: libvirt's built-in configuration (domain `test`, network
/// `default`, pool `default-pool`, the 2-cell host).
result<node_config> default_node_config();

} // namespace virtactor::drivers::test
