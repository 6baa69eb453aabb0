#pragma once
// One procedure sent to a driver connection actor, its reply decoded: the
// way the daemon's session calls a local driver, for tests.

#include <chrono>

#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::testing {

template <protocol::proc Proc>
result<typename protocol::proc_traits<Proc>::ret>
typed_call(caf::scoped_actor& self, const connection_actor& conn,
           const typename protocol::proc_traits<Proc>::args& args,
           std::chrono::seconds timeout) {
  result<typename protocol::proc_traits<Proc>::ret> out =
    make_virt_error(error_code::internal_error, error_domain::none, "no reply");
  self->request(conn, timeout, call_atom::value, static_cast<int32_t>(Proc), xdr::encode(args))
    .receive(
      [&](const xdr::buffer& reply) {
        typename protocol::proc_traits<Proc>::ret ret;
        if (xdr::decode(reply, ret).empty())
          out = ret;
        else
          out = make_virt_error(error_code::rpc, error_domain::rpc, "undecodable reply");
      },
      [&](const caf::error& err) { out = from_caf_error(err); });
  return out;
}

} // namespace virtactor::testing
