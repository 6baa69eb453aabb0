/// Tap devices for interfaces of type bridge: what libvirt's qemu driver
/// does before it starts QEMU (virNetDevTapCreateInBridgePort), done with
/// the kernel's own interfaces (/dev/net/tun and ioctls, no `ip` command).
///
/// The tap is not persistent: it lives while a descriptor of it is open, so
/// it goes away with QEMU (which inherits one) and with the daemon's copy if
/// the start fails before QEMU runs. Needs CAP_NET_ADMIN.
#pragma once

#include <string>

#include "actors/fd.hpp"
#include "protocol/error.hpp"

namespace virtactor::qemu {

/// What to create.
struct tap_request {
  /// The device name: one chosen by the user, or empty for the kernel's
  /// next free `vnetN` (libvirt's prefix; names starting with "vnet",
  /// "macvtap" or "macvlan" are reserved and replaced, as libvirt does).
  std::string name;
  /// The guest's MAC address (aa:bb:cc:dd:ee:ff); the tap gets it with fe as
  /// the first byte, so that the bridge never takes the guest's address.
  std::string mac;
  /// The bridge to attach the tap to; it must exist.
  std::string bridge;
  /// IFF_VNET_HDR (virtio models), as libvirt asks for them.
  bool vnet_hdr = false;
};

/// A created tap: its descriptor (close-on-exec) and its name.
struct tap_device {
  unique_fd fd;
  std::string name;
};

/// Whether `name` is a tap name libvirt reserves for itself.
bool reserved_tap_name(const std::string& name);

/// Creates the tap, gives it the MAC and the bridge's MTU, attaches it to
/// the bridge and brings it up. Errors carry libvirt's wording: a missing
/// bridge is "Cannot get interface MTU on 'BR': No such device".
result<tap_device> create_tap(const tap_request& req);

} // namespace virtactor::qemu
