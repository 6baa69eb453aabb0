/// Everything of one open test URI except the domains themselves: the node
/// (host) description, the index of domain summaries, networks, storage pools
/// and volumes, and the connection-level procedures, with libvirt 9.0's
/// test-driver values, rules and errors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/open_options.hpp"
#include "drivers/test/call_context.hpp"
#include "drivers/test/domain_object.hpp"
#include "protocol/error.hpp"
#include "protocol/remote_protocol.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::test {

struct node_description;

/// What a `driver_state::dispatch` produced.
struct outcome {
  /// The encoded ret struct (empty when `forward_to` is set).
  xdr::buffer reply;
  /// DEFINE_XML(_FLAGS) / CREATE_XML of a new domain: the new object, already
  /// in the index; its events are already appended to the context.
  std::unique_ptr<domain_object> created;
  /// DEFINE_XML(_FLAGS) / CREATE_XML naming an existing domain (same name and
  /// uuid): the caller forwards the same call to that domain's object.
  std::optional<xdr::uuid> forward_to;
};

/// The state of one open test URI (`test:///default`, or a node XML file).
/// Not thread-safe: the actor layer serialises calls.
class driver_state {
public:
  /// Opens `uri_path`: "/default" builds libvirt's default configuration; an
  /// absolute path loads that node XML file (libvirt's custom test format).
  /// A missing or broken file gives libvirt's error.
  static result<std::unique_ptr<driver_state>> open(std::string_view uri_path,
                                                    const file_access* files = nullptr);

  ~driver_state();
  driver_state(const driver_state&) = delete;
  driver_state& operator=(const driver_state&) = delete;

  /// The domains of the configuration (once; later calls return nothing).
  /// Their summaries are already in the index; running ones have ids 1, 2, ...
  std::vector<std::unique_ptr<domain_object>> take_initial_domains();

  /// Records a domain's summary after a call on its object; a `removed`
  /// summary drops the domain from the index.
  void update(const domain_summary& s);

  /// Performs every REMOTE procedure that is not a per-domain one (see
  /// `is_domain_proc`). Procedures the test driver does not support get
  /// libvirt's NO_SUPPORT error (`unsupported_error`).
  result<outcome> dispatch(int32_t proc, const xdr::buffer& args, call_context& ctx);

  /// True for the procedures that go to a `domain_object`: their args start
  /// with a `nonnull_domain`, and the caller routes them by its uuid.
  static bool is_domain_proc(int32_t proc);

  /// libvirt's error for a handle whose uuid names no domain:
  /// "Domain not found: no domain with matching uuid '...' (name)".
  virt_error no_domain_error(const protocol::nonnull_domain& dom) const;

  /// The error the real test driver gives for per-domain call `proc` with
  /// `args` when the domain does not exist. Argument and flag checks that
  /// libvirt makes before looking the domain up come first; else as
  /// `no_domain_error`.
  virt_error no_domain_error(int32_t proc, const xdr::buffer& args, const call_context& ctx) const;

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
