/// The asynchronous actor API: open connections and make typed calls from any
/// event-based actor, with a response handler, an error handler and a
/// deadline on every request. Many connections to many hosts can be in flight
/// from one actor; nothing blocks a thread.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"
#include "client/registry.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::client {

/// Opens `uri` from `self`: `on_ok(connection_actor)` or `on_err(virt_error)`.
template <class Self, class OnOk, class OnErr>
void open(Self* self, const std::string& uri, uint32_t flags, const open_options& opts,
          OnOk on_ok, OnErr on_err) {
  self->request(driver_registry(self->system()), open_timeout, open_atom::value, uri, flags, opts)
    .then([on_ok](const connection_actor& conn) mutable { on_ok(conn); },
          [on_err](caf::error& err) mutable { on_err(from_caf_error(err, "connection open")); });
}

/// Calls procedure `P` on `conn` from `self`: `on_ok(ret)` with the decoded
/// return struct, or `on_err(virt_error)` (including a timeout after `timeout`).
template <protocol::proc P, class Self, class OnOk, class OnErr>
void call(Self* self, const connection_actor& conn,
          const typename protocol::proc_traits<P>::args& args, std::chrono::milliseconds timeout,
          OnOk on_ok, OnErr on_err) {
  using ret_t = typename protocol::proc_traits<P>::ret;
  xdr::buffer encoded;
  if (auto err = xdr::encode_checked(encoded, args); !err.empty()) {
    on_err(make_virt_error(error_code::rpc, error_domain::rpc,
                           "Unable to encode message payload: " + err));
    return;
  }
  self->request(conn, timeout, call_atom::value, static_cast<int32_t>(P), std::move(encoded))
    .then(
      [on_ok, on_err](const xdr::buffer& reply) mutable {
        ret_t ret{};
        if (auto err = xdr::decode(reply, ret); !err.empty()) {
          on_err(make_virt_error(error_code::rpc, error_domain::rpc,
                                 "Unable to decode message payload"));
          return;
        }
        on_ok(std::move(ret));
      },
      [on_err](caf::error& err) mutable {
        on_err(from_caf_error(err, protocol::proc_traits<P>::api));
      });
}

} // namespace virtactor::client
