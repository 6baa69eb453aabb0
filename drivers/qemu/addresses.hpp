/// Internal to the qemu driver's definitions: libvirt 9.0's PCI and USB
/// address assignment for i440fx and q35 guests (qemu_domain_address.c and
/// conf/domain_addr.c, reimplemented for the driver's subset).
#pragma once

#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::qemu::detail {

/// True for a q35 machine type ("q35", "pc-q35-*").
bool is_q35(const xml::domain_def& def);

/// Gives every device that needs one a PCI address (keeping those the
/// document gives), adding the pcie-root-ports and pcie-to-pci-bridge a q35
/// guest needs (and one spare root port for hotplug, as libvirt does), and
/// USB ports to USB input devices. Errors are libvirt's (a double use of an
/// address, a bus that does not exist) or VIR_ERR_CONFIG_UNSUPPORTED for a
/// topology the driver does not build (more devices than pci.0 holds).
result<void> assign_addresses(xml::domain_def& def);

} // namespace virtactor::drivers::qemu::detail
