/// The part of a domain that belongs to one driver (libvirt's per-driver
/// `virDomainObj` private data and the hypervisor half of each domain API):
/// starting, stopping, pausing, resizing a guest, and what only the
/// hypervisor knows (CPU time, security label). The shared domain core
/// (`domain_dispatch`) does the rest of every API: argument and flag checks,
/// which definition a call affects, lookups, events and replies.
///
/// A backend lives inside its domain's actor and is only ever called there.
/// Operations report through `done`, exactly once, at once (the test driver)
/// or later (QEMU answers over its monitor); while one is pending the domain
/// actor still answers reads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/events.hpp"
#include "drivers/conf/call_context.hpp"
#include "drivers/conf/domain_object.hpp"
#include "drivers/conf/domain_stats.hpp"
#include "protocol/error.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::drivers::conf {

/// Completes a backend operation: call exactly once, on the domain actor.
using done_fn = std::function<void(result<void>)>;

/// Completes a statistics request with the driver's parameters.
using stats_done_fn = std::function<void(stats_params)>;

/// What a backend may use of the domain actor it lives in.
class domain_host {
public:
  virtual ~domain_host() = default;

  /// The context of the message being handled: events appended to it reach
  /// the driver state (and subscribers) with the domain's next summary.
  virtual call_context& context() = 0;

  /// Tells the driver state now about changes made outside a call (a guest
  /// that shut itself down, a QEMU that died).
  virtual void changed() = 0;

  /// The domain actor, for helper actors to send `(backend_atom, message)`
  /// to; the message reaches `domain_backend::on_message`.
  virtual caf::actor handle() = 0;

  /// The actor system the domain actor runs in.
  virtual caf::actor_system& system() = 0;

  /// Sends `msg` to `dest` as a request from the domain actor, for a reply
  /// that is one string (a QMP monitor's JSON text); exactly one of `ok`
  /// and `fail` runs later, on the domain actor, which then tells the driver
  /// state about what they changed.
  virtual void request(const caf::actor& dest, caf::timespan timeout, caf::message msg,
                       std::function<void(std::string&)> ok,
                       std::function<void(const caf::error&)> fail) = 0;
};

/// One operation's inputs: the object, the handle the caller named it by
/// (libvirt words some errors with the caller's name), the API's flags.
struct domain_op {
  domain_object& obj;
  const protocol::nonnull_domain& handle;
  uint32_t flags = 0;
};

/// The hypervisor half of a domain (see the file comment).
class domain_backend {
public:
  virtual ~domain_backend() = default;

  /// The domain's CPU time for readers outside the domain actor (the
  /// daemon answers DOMAIN_GET_INFO from the index with it); null: only
  /// `cpu_time_ns`, on the actor. Asked after every change of the domain.
  virtual std::shared_ptr<const cpu_clock> cpu_clock_of(const domain_object&) { return nullptr; }

  /// Called once when the domain actor starts (again, after a restart):
  /// an active domain is reattached to its hypervisor process here.
  virtual void attach(domain_object& obj, domain_host& host) = 0;

  // -- lifecycle ---------------------------------------------------------------

  /// CREATE(_WITH_FLAGS), and CREATE_XML of a new or an inactive domain:
  /// start `op.obj` (the live definition, when set, is the one to start).
  virtual void start(domain_op op, done_fn done) = 0;
  /// DESTROY(_FLAGS). May run while another operation is pending: it must
  /// not wait on anything the pending operation waits on.
  virtual void destroy(domain_op op, done_fn done) = 0;
  /// SHUTDOWN(_FLAGS).
  virtual void shutdown(domain_op op, done_fn done) = 0;
  /// REBOOT.
  virtual void reboot(domain_op op, done_fn done) = 0;
  /// RESET: the machine's reset line, no guest cooperation.
  virtual void reset(domain_op op, done_fn done) = 0;
  /// SUSPEND.
  virtual void suspend(domain_op op, done_fn done) = 0;
  /// RESUME.
  virtual void resume(domain_op op, done_fn done) = 0;

  // -- live changes (the core has checked the value and updates the live
  // -- definition once the backend succeeds) ----------------------------------

  /// The balloon target of a running domain becomes `kib`; the backend keeps
  /// the live definition's current memory at what the guest has (the test
  /// driver's guest gets it at once, a QEMU guest when its balloon driver
  /// says so).
  virtual void set_live_memory(domain_op op, uint64_t kib, done_fn done) = 0;
  /// The running domain gets `n` vCPUs.
  virtual void set_live_vcpus(domain_op op, uint32_t n, done_fn done) = 0;

  // -- what only the hypervisor knows --------------------------------------------

  /// GET_INFO's CPU time in nanoseconds.
  virtual uint64_t cpu_time_ns(const domain_object& obj) = 0;
  /// GET_SECURITY_LABEL.
  virtual protocol::domain_get_security_label_ret security_label(const domain_object& obj) = 0;
  /// GET_OS_TYPE.
  virtual std::string os_type(const domain_object& obj) = 0;

  /// CONNECT_GET_ALL_DOMAIN_STATS for this domain: the parameters of the
  /// groups in `req.groups` other than `state` (the core adds that one
  /// first), in libvirt's group order. `done` runs exactly once, on the
  /// domain actor, within the driver's `stats_timeout`: what the hypervisor
  /// does not tell by then is left out. Reads only; it never waits for the
  /// domain's running job. Default: the driver has no other group.
  virtual void stats(const domain_object&, const stats_request&, stats_done_fn done) {
    done(stats_params{});
  }

  // -- persistence (defaults: nothing is stored) -----------------------------------

  /// The persistent definition changed (define, setmaxmem --config, ...).
  virtual result<void> save_config(const domain_object&) { return {}; }
  /// The domain was undefined.
  virtual result<void> remove_config(const domain_object&) { return {}; }
  /// SET_AUTOSTART: the caller sets `obj.autostart` after success.
  virtual result<void> save_autostart(const domain_object&, bool) { return {}; }

  /// A message a helper actor sent with `(backend_atom, message)`.
  virtual void on_message(const caf::message&, domain_object&) {}
};

/// Makes the backend of one domain (the driver state calls it for each
/// domain actor it spawns, and again when one is restarted).
using backend_factory = std::function<std::unique_ptr<domain_backend>()>;

} // namespace virtactor::drivers::conf
