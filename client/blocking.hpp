/// The blocking facade over the actor client: one object per connection for
/// simple programs and the `virtactor` shell. Every call goes through the same
/// connection actor the asynchronous API uses; this header pulls in no CAF.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "actors/events.hpp"
#include "actors/open_options.hpp"
#include "protocol/error.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::client {

/// `virConnectFlags`.
enum connect_flags : uint32_t {
  connect_ro = 1,
  connect_no_aliases = 2,
};

/// Default deadline of a call made through the facade.
inline constexpr std::chrono::milliseconds default_call_timeout{std::chrono::minutes{2}};

class blocking_connection {
public:
  /// Opens `uri` through the driver registry: local drivers first, the
  /// remote driver last (`virConnectOpenAuth`). Errors carry libvirt's codes.
  static result<std::unique_ptr<blocking_connection>> open(const std::string& uri, uint32_t flags = 0,
                                                          const open_options& opts = {});

  ~blocking_connection();
  blocking_connection(const blocking_connection&) = delete;
  blocking_connection& operator=(const blocking_connection&) = delete;

  /// The URI as `virConnectGetURI` reports it (no RPC).
  const std::string& uri() const;

  /// True when opened read-only.
  bool read_only() const;

  /// Calls procedure `proc` with pre-encoded arguments; returns the encoded
  /// reply body.
  result<xdr::buffer> call_raw(int32_t proc, xdr::buffer args,
                               std::chrono::milliseconds timeout = default_call_timeout);

  /// Typed call: encodes `args`, calls, decodes the reply.
  template <protocol::proc P>
  result<typename protocol::proc_traits<P>::ret>
  call(const typename protocol::proc_traits<P>::args& args = {},
       std::chrono::milliseconds timeout = default_call_timeout) {
    using ret_t = typename protocol::proc_traits<P>::ret;
    xdr::buffer encoded;
    if (auto err = xdr::encode_checked(encoded, args); !err.empty())
      return make_virt_error(error_code::rpc, error_domain::rpc,
                             "Unable to encode message payload: " + err);
    auto reply = call_raw(static_cast<int32_t>(P), std::move(encoded), timeout);
    if (!reply)
      return reply.error();
    ret_t ret{};
    if (auto err = xdr::decode(*reply, ret); !err.empty())
      return make_virt_error(error_code::rpc, error_domain::rpc, "Unable to decode message payload");
    return ret;
  }

  /// Registers for domain events `event_id` (of `dom`, or of all domains).
  /// Events queue up until `next_event` takes them. Returns the callback id.
  result<int32_t> register_domain_event(int32_t event_id, std::optional<protocol::nonnull_domain> dom);

  /// Cancels a registration made with `register_domain_event`.
  result<void> deregister_domain_event(int32_t callback_id);

  /// The next queued domain event, waiting at most `timeout`.
  std::optional<domain_event> next_event(std::chrono::milliseconds timeout);

  /// True once the connection is closed or lost.
  bool closed() const;

  /// Why the connection was lost (`virConnectCloseReason`: 0 I/O error,
  /// 1 end of file, 2 keepalive timeout); nothing while it is open or after
  /// `close()`.
  std::optional<int32_t> lost_reason() const;

  /// Closes the connection (`virConnectClose`). Called by the destructor.
  result<void> close();

  struct impl;

private:
  explicit blocking_connection(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace virtactor::client
