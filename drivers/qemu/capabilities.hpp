/// What an emulator binary offers: its version, its machine types with their
/// aliases (`pc` -> `pc-i440fx-7.2`), and whether KVM is usable here. Found by
/// running `EMULATOR -version` and `EMULATOR -machine help` (about 0.2 s
/// together, instead of libvirt's 2-second QMP probe), once per binary:
/// the result is cached until the file changes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::qemu {

/// The emulator used when a definition names none.
inline constexpr const char* default_emulator = "/usr/bin/qemu-system-x86_64";

/// One machine type of `-machine help`.
struct machine_type {
  std::string name;        ///< the canonical, versioned name ("pc-i440fx-7.2")
  std::string alias;       ///< its short alias ("pc"), empty when none
  std::string description; ///< "Standard PC (i440FX + PIIX, 1996)"
  bool is_default = false; ///< QEMU's default machine
  bool deprecated = false;
};

/// The capabilities of one emulator binary.
struct emulator_caps {
  std::string path;
  /// libvirt's version number: major * 1,000,000 + minor * 1,000 + micro.
  uint32_t version = 0;
  /// "7.2.22".
  std::string version_text;
  /// The distribution's package text ("Debian 1:7.2+dfsg-7+deb12u18+b3"), may be empty.
  std::string package;
  std::vector<machine_type> machines;
  /// /dev/kvm could be opened read-write when the binary was probed.
  bool kvm = false;

  /// The canonical name of machine `name`: an alias resolves to its target
  /// ("pc" -> "pc-i440fx-7.2", "q35" -> "pc-q35-7.2"), a canonical name to
  /// itself. Unknown names: nullopt.
  std::optional<std::string> resolve_machine(std::string_view name) const;

  /// QEMU's default machine's canonical name (empty if it has none).
  std::string default_machine() const;
};

/// Parses `-version` output ("QEMU emulator version 7.2.22 (Debian ...)")
/// into `caps.version`, `version_text` and `package`.
result<void> parse_version(std::string_view output, emulator_caps& caps);

/// Parses `-machine help` output.
result<std::vector<machine_type>> parse_machines(std::string_view output);

/// Whether `device` (normally /dev/kvm) can be opened read-write.
bool kvm_usable(const std::string& device = "/dev/kvm");

/// Probes `emulator` now, without the cache.
result<emulator_caps> probe_emulator(const std::string& emulator);

/// Capabilities per binary, probed on first use and kept until the binary
/// changes (path, modification time, size and inode). Thread-safe.
class caps_cache {
public:
  result<std::shared_ptr<const emulator_caps>> get(const std::string& emulator);

  /// How many probes ran (for tests: a second `get` must not probe).
  unsigned probes() const;

private:
  struct entry {
    std::string key;
    std::shared_ptr<const emulator_caps> caps;
  };
  mutable std::mutex mtx_;
  std::map<std::string, entry> entries_;
  unsigned probes_ = 0;
};

} // namespace virtactor::qemu
