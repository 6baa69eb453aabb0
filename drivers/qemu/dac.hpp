/// DAC security of the qemu driver, as libvirt's qemu driver does it in
/// system mode: QEMU runs as an unprivileged account (`libvirt-qemu`), and
/// the files it opens by path belong to that account while the domain runs
/// and go back to their owners when it stops (docs/qemu.md, "Security (DAC)").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "drivers/qemu/driver_config.hpp"
#include "drivers/qemu/process.hpp"
#include "drivers/qemu/status.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::qemu {

/// The account a privileged daemon runs QEMU as when none is configured
/// (Debian's libvirt: user and group `libvirt-qemu`).
inline constexpr const char* default_qemu_account = "libvirt-qemu";

/// The account QEMU runs as, from the config keys `qemu_user` and
/// `qemu_group` (a name, or `+N` for a number as in libvirt's qemu.conf).
///
/// Privileged: unset keys give `libvirt-qemu`, or root with a warning in
/// `warnings` when that account does not exist; an unset group is the
/// user's primary group. A named account that does not exist is an error
/// (VIR_ERR_CONF_SYNTAX) that stops the daemon.
/// Not privileged: QEMU runs as the daemon's user; a key naming another
/// account is an error.
result<qemu_account> resolve_qemu_account(bool privileged, const std::optional<std::string>& user,
                                          const std::optional<std::string>& group,
                                          std::vector<std::string>& warnings);

/// The launcher's view of `a`.
virtactor::qemu::run_as run_as_of(const qemu_account& a);

/// A file QEMU opens by path, and whether its owner comes back at stop
/// (not for shareable disks, as libvirt).
struct dac_target {
  std::string path;
  bool restore = true;
};

/// What QEMU of `live` opens by path: the sources of disks of type file or
/// block (cdroms and read-only disks too), and rng backends other than
/// /dev/random and /dev/urandom (which everyone may read).
std::vector<dac_target> dac_targets(const xml::domain_def& live);

/// Before QEMU starts (privileged daemons only; nothing for a user's):
/// checks that `cfg.account` reaches every target (an error naming the
/// first it cannot), then, with dynamic ownership, gives each to the
/// account. Returns the owners to restore; on failure nothing stays changed.
result<std::vector<file_owner>> dac_prepare(const xml::domain_def& live,
                                            const driver_config& cfg);

/// Whether QEMU, run as `cfg.account`, may open `device` (/dev/kvm) for
/// reading and writing: libvirt offers KVM only then. Checked as that
/// account when it is not the daemon's own user.
bool kvm_usable_by(const driver_config& cfg, const std::string& device = "/dev/kvm");

/// Gives the files back to their owners (best effort: a file that is gone
/// or cannot be changed is skipped).
void dac_restore(const std::vector<file_owner>& owners);

} // namespace virtactor::drivers::qemu
