/// Shared plumbing of the model's `dispatch` functions: decoding a procedure's
/// args struct, running an operation, encoding its ret struct; and the list of
/// per-domain procedures.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>

#include "drivers/test/errors.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::test {

/// Decodes the args of procedure `P` from `args`, calls `op(args)` (which
/// returns `result<ret>`), and encodes the ret struct.
template <protocol::proc P, class Op>
result<xdr::buffer> handle(const xdr::buffer& args, Op&& op) {
  using traits = protocol::proc_traits<P>;
  typename traits::args a;
  if (!xdr::decode(args, a).empty())
    return errors::decode_failed();
  result<typename traits::ret> r = op(a);
  if (!r)
    return r.error();
  return xdr::encode(*r);
}

/// One pair of `VIR_CONNECT_LIST_*` filter flags (ACTIVE/INACTIVE,
/// PERSISTENT/TRANSIENT, ...): no filter when neither flag is set, else the
/// object passes when it has the property asked for.
inline bool group_match(uint32_t flags, uint32_t has, uint32_t has_not, bool value) {
  if ((flags & (has | has_not)) == 0)
    return true;
  return ((flags & has) && value) || ((flags & has_not) && !value);
}

/// The public API's `maxnames` checks and the daemon's array bound for the
/// name-list procedures; `what` is libvirt's name of the bound
/// ("REMOTE_NETWORK_LIST_MAX").
inline result<void> check_maxnames(int32_t maxnames, uint32_t max, const char* what,
                                   const char* arg, const char* api, error_domain domain) {
  if (maxnames > static_cast<int64_t>(max))
    return make_virt_error(error_code::rpc, error_domain::rpc,
                           std::string{arg} + " > " + what);
  if (maxnames < 0)
    return make_virt_error(error_code::invalid_arg, domain,
                           std::string{arg} + " in " + api + " must be zero or greater");
  return {};
}

/// The procedures whose args start with a `nonnull_domain` and that a
/// `domain_object` performs.
inline constexpr protocol::proc domain_procs[] = {
  protocol::proc::domain_create,
  protocol::proc::domain_destroy,
  protocol::proc::domain_get_xml_desc,
  protocol::proc::domain_get_autostart,
  protocol::proc::domain_get_info,
  protocol::proc::domain_get_max_memory,
  protocol::proc::domain_get_max_vcpus,
  protocol::proc::domain_get_os_type,
  protocol::proc::domain_reboot,
  protocol::proc::domain_resume,
  protocol::proc::domain_set_autostart,
  protocol::proc::domain_set_max_memory,
  protocol::proc::domain_set_memory,
  protocol::proc::domain_set_vcpus,
  protocol::proc::domain_shutdown,
  protocol::proc::domain_suspend,
  protocol::proc::domain_undefine,
  protocol::proc::domain_get_security_label,
  protocol::proc::domain_is_active,
  protocol::proc::domain_is_persistent,
  protocol::proc::domain_has_managed_save_image,
  protocol::proc::domain_snapshot_num,
  protocol::proc::domain_create_with_flags,
  protocol::proc::domain_set_vcpus_flags,
  protocol::proc::domain_get_vcpus_flags,
  protocol::proc::domain_is_updated,
  protocol::proc::domain_set_memory_flags,
  protocol::proc::domain_get_state,
  protocol::proc::domain_undefine_flags,
  protocol::proc::domain_destroy_flags,
  protocol::proc::domain_shutdown_flags,
  protocol::proc::domain_get_messages,
};

/// True when `proc` is one of `domain_procs`.
inline bool is_domain_proc_number(int32_t proc) {
  return std::any_of(std::begin(domain_procs), std::end(domain_procs),
                     [proc](protocol::proc p) { return static_cast<int32_t>(p) == proc; });
}

} // namespace virtactor::drivers::test
