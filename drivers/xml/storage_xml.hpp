/// The storage XML model: libvirt's `<pool>` and `<volume>` documents (the
/// subset the test driver uses), parsed, validated and formatted back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/xml/uuid.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::xml {

/// `<permissions>` of a pool target or volume target.
struct storage_permissions {
  std::optional<uint32_t> mode; ///< printed in octal, 4 digits
  std::optional<int64_t> owner;
  std::optional<int64_t> group;
  std::string label; ///< empty: not printed

  bool operator==(const storage_permissions&) const = default;
};

/// A pool's `<source>`.
struct pool_source {
  std::vector<std::string> hosts;   ///< `<host name=...>`
  std::vector<std::string> devices; ///< `<device path=...>`
  std::string dir;                  ///< `<dir path=...>`; empty: none
  std::string name;                 ///< `<name>`; empty: none
  std::string format;               ///< `<format type=...>`; empty: none

  bool operator==(const pool_source&) const = default;
};

/// A parsed, validated storage pool definition.
struct pool_def {
  std::string type = "dir"; ///< "dir" (more types parse but only dir is modelled fully)
  std::string name;
  xdr::uuid uuid{};
  uint64_t capacity = 0; ///< bytes
  uint64_t allocation = 0;
  uint64_t available = 0;
  pool_source source;
  std::string target_path;
  std::optional<storage_permissions> target_perms;

  bool operator==(const pool_def&) const = default;
};

/// A parsed, validated storage volume definition.
struct volume_def {
  std::string type = "file"; ///< "file", "block", "dir", ...
  std::string name;
  std::string key;             ///< set by the pool; empty: not printed
  uint64_t capacity = 0;       ///< bytes
  uint64_t allocation = 0;     ///< bytes; equals capacity when the document has none
  bool has_allocation = false; ///< the document carried `<allocation>`
  std::string target_path;     ///< set by the pool; empty: not printed
  std::string format;          ///< `<format type=...>`; pool default when absent
  std::optional<storage_permissions> target_perms;

  bool operator==(const volume_def&) const = default;
};

/// How to parse a pool: what to fill in that the document leaves out.
struct pool_parse {
  /// The UUID to use when the document has none; a random one when empty.
  std::optional<xdr::uuid> uuid_if_absent;
};

/// Parses and validates a `<pool>` document.
result<pool_def> parse_pool(std::string_view xml, const pool_parse& opts = {});

/// Prints `def` as `virsh pool-dumpxml` does, ending with a newline.
std::string format_pool(const pool_def& def);

/// Parses and validates a `<volume>` document for a pool of type `pool_type`
/// (which decides the default and the allowed `<format>` types).
result<volume_def> parse_volume(std::string_view xml, std::string_view pool_type = "dir");

/// Parses a `<volume>` document to be created in `pool`, and places it there as
/// the test driver does: key and target path become "POOL_PATH/NAME".
result<volume_def> parse_volume(std::string_view xml, const pool_def& pool);

/// Prints `def` as `virsh vol-dumpxml` does, ending with a newline.
std::string format_volume(const volume_def& def);

/// Reads a size with libvirt's unit suffixes (`b`, `KiB`/`K`, `KB`, `MiB`/`M`,
/// `MB`, ... ; an empty unit means bytes) into bytes, as `<capacity unit=...>`
/// and `vol-create-as` do. Errors name `element` as libvirt does.
result<uint64_t> parse_size(std::string_view value, std::string_view unit,
                            std::string_view element = "capacity");

} // namespace virtactor::drivers::xml
