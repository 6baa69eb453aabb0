/// Shared plumbing of the drivers' procedure handlers: running an operation
/// on a procedure's decoded args struct and encoding its ret struct, and the
/// checks and selections every object list (domains, networks, pools) makes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>

#include <any>

#include "drivers/conf/errors.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::conf {

/// Calls `op(a)` with the args struct of procedure `P` that `args` holds
/// (decoded once, by the connection), and encodes the ret struct `op`
/// returns (as `result<ret>`).
template <protocol::proc P, class Op>
result<xdr::buffer> handle(const std::any& args, Op&& op) {
  using traits = protocol::proc_traits<P>;
  auto a = std::any_cast<typename traits::args>(&args);
  if (!a)
    return errors::decode_failed();
  result<typename traits::ret> r = op(*a);
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

/// The bounds of one name- or id-list procedure: the daemon's array maximum
/// (libvirt's `REMOTE_*_LIST_MAX`, by name) and the public API that checks
/// the count is not negative.
struct list_bound {
  uint32_t max;
  const char* max_name; ///< "REMOTE_NETWORK_LIST_MAX"
  const char* arg;      ///< "maxnames" or "maxids"
  const char* api;      ///< "virConnectListNetworks"
  error_domain domain;  ///< the API's error domain
};

/// The daemon's and the public API's checks of a list count.
inline result<void> check_maxnames(int32_t maxnames, const list_bound& b) {
  if (maxnames > static_cast<int64_t>(b.max))
    return make_virt_error(error_code::rpc, error_domain::rpc,
                           std::string{b.arg} + " > " + b.max_name);
  if (maxnames < 0)
    return make_virt_error(error_code::invalid_arg, b.domain,
                           std::string{b.arg} + " in " + b.api + " must be zero or greater");
  return {};
}

/// What `get` gives of the first `max` of `objs` that `pred` selects.
template <class Array, class Objs, class Pred, class Get>
Array first_n(const Objs& objs, int32_t max, Pred pred, Get get) {
  Array out;
  for (auto& o : objs)
    if (out.size() < static_cast<size_t>(std::max(max, 0)) && pred(o))
      out.push_back(get(o));
  return out;
}

/// NUM_OF_* of networks or pools: how many are (in)active.
template <class Objs>
protocol::num_ret count_by_state(const Objs& objs, bool active) {
  auto n = std::count_if(std::begin(objs), std::end(objs),
                         [&](const auto& o) { return o.active == active; });
  return protocol::num_ret{static_cast<int32_t>(n)};
}

/// LIST_* / LIST_DEFINED_* of networks or pools: the names of the first
/// `maxnames` (in)active ones.
template <class Ret, class Objs>
result<Ret> names_by_state(const Objs& objs, bool active, int32_t maxnames, const list_bound& b) {
  if (auto ok = check_maxnames(maxnames, b); !ok)
    return ok.error();
  Ret r;
  r.names = first_n<decltype(r.names)>(
    objs, maxnames, [&](const auto& o) { return o.active == active; },
    [](const auto& o) { return o.def.name; });
  return r;
}

} // namespace virtactor::drivers::conf
