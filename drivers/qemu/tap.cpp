#include "drivers/qemu/tap.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace virtactor::qemu {

namespace {

virt_error sys_error(const std::string& what, int err) {
  return make_system_error(error_domain::qemu, what, err);
}

/// An ifreq naming `name` (which must fit: checked by the callers).
ifreq request_for(const std::string& name) {
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name.c_str());
  return ifr;
}

bool parse_mac(const std::string& text, unsigned char out[6]) {
  unsigned v[6];
  char tail;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5], &tail) != 6)
    return false;
  for (int i = 0; i < 6; ++i)
    out[i] = static_cast<unsigned char>(v[i]);
  return true;
}

} // namespace

bool reserved_tap_name(const std::string& name) {
  return name.starts_with("vnet") || name.starts_with("macvtap") || name.starts_with("macvlan");
}

result<tap_device> create_tap(const tap_request& req) {
  // No interface has a name that long (or none): as the kernel would say.
  if (req.bridge.empty() || req.bridge.size() >= IFNAMSIZ)
    return sys_error("Cannot get interface MTU on '" + req.bridge + "'", ENODEV);
  std::string wanted = req.name.empty() || reserved_tap_name(req.name) ? "vnet%d" : req.name;
  if (wanted.size() >= IFNAMSIZ)
    return make_virt_error(error_code::config_unsupported, error_domain::qemu,
                           "unsupported configuration: interface target dev '" + wanted
                             + "' is longer than " + std::to_string(IFNAMSIZ - 1)
                             + " characters");
  unsigned char mac[6];
  if (!parse_mac(req.mac, mac))
    return make_virt_error(error_code::internal_error, error_domain::qemu,
                           "internal error: invalid MAC address '" + req.mac + "'");
  unique_fd ctl{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (!ctl)
    return sys_error("Unable to open control socket", errno);
  // The bridge first: its MTU is the tap's, and a missing bridge is refused
  // before any device is made.
  auto br = request_for(req.bridge);
  if (::ioctl(ctl.get(), SIOCGIFMTU, &br) != 0)
    return sys_error("Cannot get interface MTU on '" + req.bridge + "'", errno);
  int mtu = br.ifr_mtu;

  unique_fd tun{::open("/dev/net/tun", O_RDWR | O_CLOEXEC)};
  if (!tun)
    return sys_error("Unable to open /dev/net/tun, is tun module loaded?", errno);
  auto ifr = request_for(wanted);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (req.vnet_hdr ? IFF_VNET_HDR : 0);
  if (::ioctl(tun.get(), TUNSETIFF, &ifr) != 0)
    return sys_error("Unable to create tap device " + wanted, errno);
  std::string name = ifr.ifr_name;

  auto dev = request_for(name);
  dev.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(dev.ifr_hwaddr.sa_data, mac, 6);
  dev.ifr_hwaddr.sa_data[0] = static_cast<char>(0xfe);
  if (::ioctl(ctl.get(), SIOCSIFHWADDR, &dev) != 0)
    return sys_error("Cannot set interface MAC on '" + name + "'", errno);
  dev = request_for(name);
  dev.ifr_mtu = mtu;
  if (::ioctl(ctl.get(), SIOCSIFMTU, &dev) != 0)
    return sys_error("Cannot set interface MTU on '" + name + "'", errno);
  dev = request_for(name);
  if (::ioctl(ctl.get(), SIOCGIFINDEX, &dev) != 0)
    return sys_error("Unable to get index for interface " + name, errno);
  br = request_for(req.bridge);
  br.ifr_ifindex = dev.ifr_ifindex;
  if (::ioctl(ctl.get(), SIOCBRADDIF, &br) != 0)
    return sys_error("Unable to add bridge " + req.bridge + " port " + name, errno);
  dev = request_for(name);
  if (::ioctl(ctl.get(), SIOCGIFFLAGS, &dev) != 0)
    return sys_error("Cannot get interface flags on '" + name + "'", errno);
  dev.ifr_flags = static_cast<short>(dev.ifr_flags | IFF_UP);
  if (::ioctl(ctl.get(), SIOCSIFFLAGS, &dev) != 0)
    return sys_error("Cannot set interface flags on '" + name + "'", errno);
  return tap_device{std::move(tun), std::move(name)};
}

} // namespace virtactor::qemu
