/// The part of a driver state that belongs to one driver: its host
/// (capabilities, node info, versions), networks and pools where it keeps
/// them, how it reads domain XML, which domains it starts with, and the
/// backend each of its domains gets. The shared state actor does the rest:
/// the domain index, lookups and listings, routing per-domain calls to their
/// actors, define/create with libvirt's clash rules, events.
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "drivers/conf/call_context.hpp"
#include "drivers/conf/domain_backend.hpp"
#include "drivers/conf/domain_object.hpp"
#include "drivers/conf/driver_traits.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::conf {

class state_backend {
public:
  virtual ~state_backend() = default;

  /// The driver's name, error domain, flags and limits.
  virtual const driver_traits& traits() const = 0;

  /// The domains the state starts with (a test node file's; the qemu driver's
  /// definitions and running guests). Called once, when the state starts.
  virtual std::vector<std::unique_ptr<domain_object>> take_initial_domains() = 0;

  /// A backend for one domain.
  virtual std::unique_ptr<domain_backend> make_backend() = 0;

  /// DEFINE_XML(_FLAGS): the driver's flag checks and parse of `xml`.
  virtual result<xml::domain_def> parse_for_define(std::string_view xml, uint32_t flags) = 0;

  /// CREATE_XML: the driver's flag checks and parse of `xml`.
  virtual result<xml::domain_def> parse_for_create(std::string_view xml, uint32_t flags) = 0;

  /// Every procedure that is neither per-domain, nor a domain lookup or
  /// listing, nor define/create: host, networks, pools, volumes. Procedures
  /// the driver lacks get libvirt's NO_SUPPORT error.
  virtual result<xdr::buffer> call(int32_t proc, const std::any& args, call_context& ctx) = 0;
};

} // namespace virtactor::drivers::conf
