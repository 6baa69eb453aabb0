/// The domain index of one driver state (libvirt's `virDomainObjList`): the
/// summary of every domain in the order they came, lookups by name, uuid and
/// id, the name/uuid clash rules of a new definition, and the listing
/// procedures with every VIR_CONNECT_LIST_DOMAINS_* filter.
#pragma once

#include <any>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/conf/domain_object.hpp"
#include "drivers/conf/driver_traits.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::conf {

class domain_list {
public:
  explicit domain_list(driver_traits traits) : traits_(std::move(traits)) {}

  const domain_summary* find_uuid(const xdr::uuid& uuid) const;
  const domain_summary* find_name(const std::string& name) const;
  /// The active domain with `id`.
  const domain_summary* find_id(int32_t id) const;

  /// The name/uuid rules of `virDomainObjListAdd` for a definition that
  /// names `def`: an error, the uuid of the existing domain it names, or
  /// nothing for a new domain.
  result<std::optional<xdr::uuid>> existing(const xml::domain_def& def) const;

  /// Records a domain's summary: a new domain goes last, a known one is
  /// updated, a `removed` one is dropped.
  void update(const domain_summary& s);

  /// True for the procedures `dispatch` performs: lookups and listings.
  static bool handles(int32_t proc);

  /// Performs lookup or listing procedure `proc` with its decoded `args`.
  result<xdr::buffer> dispatch(int32_t proc, const std::any& args) const;

  const std::vector<domain_summary>& domains() const { return domains_; }

private:
  driver_traits traits_;
  std::vector<domain_summary> domains_;
};

/// `virDomainObjMatchFilter`: whether a VIR_CONNECT_LIST_DOMAINS_* filter
/// selects the domain `s` describes.
bool domain_listed(uint32_t flags, const domain_summary& s);

} // namespace virtactor::drivers::conf
