/// The test driver's part of one open test URI (its `state_backend`): the
/// node (host) description, networks, storage pools and volumes, the
/// connection-level procedures with libvirt 9.0's test-driver values, rules
/// and errors, and the domains of the configuration it starts with. The
/// shared state actor (drivers/conf) keeps the domain index.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "actors/open_options.hpp"
#include "drivers/conf/state_backend.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::test {

using conf::call_context;
using conf::domain_object;
using conf::domain_state;
using conf::domain_summary;

struct node_description;

/// The state of one open test URI (`test:///default`, or a node XML file).
/// Not thread-safe: its state actor serialises calls.
class driver_state final : public conf::state_backend {
public:
  /// Opens `uri_path`: "/default" builds libvirt's default configuration; an
  /// absolute path loads that node XML file (libvirt's custom test format).
  /// A missing or broken file gives libvirt's error. A file is read as
  /// `files` says (null: as this process, within the default bounds).
  static result<std::unique_ptr<driver_state>> open(std::string_view uri_path,
                                                    const file_access* files = nullptr);

  ~driver_state() override;
  driver_state(const driver_state&) = delete;
  driver_state& operator=(const driver_state&) = delete;

  const conf::driver_traits& traits() const override;

  /// The domains of the configuration (once; later calls return nothing);
  /// running ones have ids 1, 2, ...
  std::vector<std::unique_ptr<domain_object>> take_initial_domains() override;

  std::unique_ptr<conf::domain_backend> make_backend() override;
  result<xml::domain_def> parse_for_define(std::string_view xml, uint32_t flags) override;
  result<xml::domain_def> parse_for_create(std::string_view xml, uint32_t flags) override;

  /// Host, network, pool and volume procedures. Procedures the test driver
  /// does not support get libvirt's NO_SUPPORT error.
  result<xdr::buffer> call(int32_t proc, const std::any& args, call_context& ctx) override;

  /// libvirt's NO_SUPPORT error for a procedure the test driver lacks, e.g.
  /// "this function is not supported by the connection driver:
  /// virConnectNumOfSecrets" (code 3, the domain of the API's object).
  static virt_error unsupported_error(int32_t proc);

  /// The host this state describes.
  const node_description& node() const;

private:
  driver_state();
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace virtactor::drivers::test
