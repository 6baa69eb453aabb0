/// What the qemu driver's state and every one of its domains share: the
/// settings, the process launcher (one pidfd watcher thread for all QEMUs),
/// the emulator's facts, the stores for definitions and status files.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "drivers/conf/domain_backend.hpp"
#include "drivers/conf/driver_traits.hpp"
#include "drivers/conf/state_store.hpp"
#include "drivers/qemu/domain_def.hpp"
#include "drivers/qemu/driver_config.hpp"
#include "drivers/qemu/process.hpp"

namespace virtactor::drivers::qemu {

struct driver_context {
  driver_config cfg;
  std::shared_ptr<virtactor::qemu::process_launcher> launcher;
  /// The emulator's machine types and KVM (from its capabilities).
  emulator_facts facts;
  /// libvirt's version number of the emulator (7.2.22: 7002022).
  uint32_t qemu_version = 0;
  std::string qemu_version_text;
  /// Definitions (config_dir) and status files (run_dir).
  std::unique_ptr<conf::state_store> configs;
  std::unique_ptr<conf::state_store> statuses;
  conf::driver_traits traits;
  /// The seclabel of started domains (DAC: QEMU runs as the daemon's user).
  xml::seclabel_def seclabel;
};

/// The qemu driver's traits: "qemu" functions, VIR_FROM_QEMU, its flags.
conf::driver_traits qemu_traits();

/// A domain's backend over `ctx`.
std::unique_ptr<conf::domain_backend> make_domain_backend(std::shared_ptr<driver_context> ctx);

/// The status file's name of domain `name`.
inline std::string status_name(const std::string& name) {
  return name + ".xml";
}

} // namespace virtactor::drivers::qemu
