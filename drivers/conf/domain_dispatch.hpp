/// The per-domain REMOTE procedures on the shared domain core: argument and
/// flag checks, which definition a call affects, the domain's reads, and the
/// hypervisor half through the driver's `domain_backend`. Pure code (no
/// actors): the domain actor runs it, tests call it directly.
#pragma once

#include <any>
#include <cstdint>
#include <functional>

#include "drivers/conf/call_context.hpp"
#include "drivers/conf/domain_backend.hpp"
#include "drivers/conf/domain_object.hpp"
#include "drivers/conf/driver_traits.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::conf {

/// Operations receive a `domain_op` that is valid during the call only: a
/// backend that finishes later keeps what it needs, not the op.
///
/// Receives the encoded ret struct of a call, or its error; exactly once.
using reply_fn = std::function<void(result<xdr::buffer>)>;

/// How a per-domain procedure runs on its domain actor.
enum class job_kind : uint8_t {
  read,   ///< answered at once from what the actor knows, even during a job
  job,    ///< one at a time, in arrival order (libvirt's job lock)
  urgent, ///< at once, even during a job (destroy: signals, not the monitor)
};

/// True for the procedures `dispatch_domain_call` performs: those whose
/// arguments start with a domain handle and that the core implements.
bool is_domain_proc(int32_t proc);

/// The domain handle the decoded args of a per-domain procedure start with.
protocol::nonnull_domain domain_handle_of(const std::any& args);

/// How `proc` runs (see `job_kind`).
job_kind job_kind_of(int32_t proc);

/// Success when per-domain procedure `proc` with `args` (its decoded args
/// struct) passes every check libvirt makes before it looks the domain up:
/// the public API's argument and read-only flag checks and the driver's flag
/// checks; else the first failing check's error.
result<void> check_domain_call(const driver_traits& traits, int32_t proc, const std::any& args,
                               bool read_only);

/// Performs per-domain procedure `proc` on `obj` (checks included) and
/// replies through `reply`, at once or when the backend is done.
void dispatch_domain_call(const driver_traits& traits, domain_object& obj, domain_backend& backend,
                          int32_t proc, const std::any& args, call_context& ctx, reply_fn reply);

/// DEFINE_XML(_FLAGS) naming this domain (same name and uuid): `def` becomes
/// its persistent definition. Replies with the domain's handle.
result<protocol::dom_only> redefine_domain(const driver_traits& traits, domain_object& obj,
                                           domain_backend& backend, xml::domain_def def,
                                           call_context& ctx);

/// CREATE_XML naming this inactive persistent domain, or (`fresh`) a new
/// transient domain made for this call (`domain_object::origin::transient`):
/// start with `def` as the live definition. Replies with the domain's handle;
/// a fresh domain that fails to start is removed.
void create_domain(const driver_traits& traits, domain_object& obj, domain_backend& backend,
                   xml::domain_def def, bool fresh,
                   std::function<void(result<protocol::dom_only>)> reply);

} // namespace virtactor::drivers::conf
