/// Test support: which struct carries the body of a message, chosen from its
/// header, for the captured-vector tests, the fuzz target and the layout tool.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "protocol/header.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::protocol::test {

/// Calls `f(std::type_identity<T>{})` with the return struct (`Ret`) or the
/// argument struct of procedure `number`; returns false when `number` is not
/// in `VA_REMOTE_PROCS`.
template <bool Ret, class F>
bool with_proc_struct(int32_t number, F&& f) {
  switch (number) {
#define VA_CASE(p, A, R, api_name, acc)                                                            \
  case static_cast<int32_t>(proc::p):                                                              \
    f(std::type_identity<std::conditional_t<Ret, R, A>>{});                                        \
    return true;
    VA_REMOTE_PROCS(VA_CASE)
#undef VA_CASE
    default:
      return false;
  }
}

/// The argument struct of procedure `number`, see `with_proc_struct`.
template <class F>
bool with_args_type(int32_t number, F&& f) {
  return with_proc_struct<false>(number, std::forward<F>(f));
}

/// The return struct of procedure `number`, see `with_proc_struct`.
template <class F>
bool with_ret_type(int32_t number, F&& f) {
  return with_proc_struct<true>(number, std::forward<F>(f));
}

/// As `with_args_type`, for the body of a server-to-client event MESSAGE.
template <class F>
bool with_msg_type(int32_t number, F&& f) {
  switch (number) {
    case proc_domain_event_lifecycle:
      f(std::type_identity<domain_event_lifecycle_msg>{});
      return true;
    case proc_domain_event_reboot:
      f(std::type_identity<domain_event_reboot_msg>{});
      return true;
    case proc_domain_event_callback_lifecycle:
      f(std::type_identity<domain_event_callback_lifecycle_msg>{});
      return true;
    case proc_domain_event_callback_reboot:
      f(std::type_identity<domain_event_callback_reboot_msg>{});
      return true;
    case proc_connect_event_connection_closed:
      f(std::type_identity<connect_event_connection_closed_msg>{});
      return true;
    case proc_domain_event_control_error:
      f(std::type_identity<domain_event_control_error_msg>{});
      return true;
    case proc_domain_event_callback_control_error:
      f(std::type_identity<domain_event_callback_control_error_msg>{});
      return true;
    default:
      return false;
  }
}

/// Calls `f(std::type_identity<T>{})` with the struct that carries the body
/// of a message with header `hdr`: `remote_error` for an error, the args of
/// a call, the ret of a reply, the msg of an event, `xdr::empty` for a
/// keepalive message. Returns false when virtactor has no struct for it.
template <class F>
bool with_body_type(const header& hdr, F&& f) {
  if (hdr.vers != program_version)
    return false;
  if (hdr.prog == program::keepalive) {
    auto p = static_cast<keepalive_proc>(hdr.proc);
    if (hdr.type != msg_type::message || (p != keepalive_proc::ping && p != keepalive_proc::pong))
      return false;
    f(std::type_identity<xdr::empty>{});
    return true;
  }
  if (hdr.prog != program::remote)
    return false;
  if (hdr.status == msg_status::error) {
    if (hdr.type != msg_type::reply)
      return false;
    f(std::type_identity<remote_error>{});
    return true;
  }
  if (hdr.status != msg_status::ok)
    return false;
  switch (hdr.type) {
    case msg_type::call:
      return with_args_type(hdr.proc, f);
    case msg_type::reply:
      return with_ret_type(hdr.proc, f);
    case msg_type::message:
      return with_msg_type(hdr.proc, f);
    default:
      return false;
  }
}

/// What decoding a whole message (length word included) gave.
struct decoded_message {
  header hdr;
  std::string error;      ///< empty on success
  size_t body_size = 0;   ///< bytes after the header
  size_t body_used = 0;   ///< bytes the body struct took
  xdr::buffer reencoded;  ///< header and decoded body encoded again
};

/// Decodes `[data, data + size)` as one message: length word, header, and
/// the body struct `with_body_type` names; on success encodes the decoded
/// values again into `reencoded`.
inline decoded_message decode_message(const char* data, size_t size) {
  decoded_message out;
  if (size < length_size) {
    out.error = "shorter than a length word";
    return out;
  }
  auto len = parse_length(data);
  if (!len) {
    out.error = "length word out of range";
    return out;
  }
  if (*len != size) {
    out.error = "length word does not match the message size";
    return out;
  }
  if (auto err = decode_header(data + length_size, size - length_size, out.hdr); !err.empty()) {
    out.error = err;
    return out;
  }
  const char* body = data + length_size + header_size;
  out.body_size = size - length_size - header_size;
  bool known = with_body_type(out.hdr, [&]<class T>(std::type_identity<T>) {
    T value;
    xdr::decoder d{body, out.body_size};
    d.get(value);
    if (!d.ok()) {
      out.error = d.error();
      return;
    }
    out.body_used = out.body_size - d.remaining();
    out.reencoded = make_message(out.hdr, value);
  });
  if (!known)
    out.error = "no body struct for " + to_string(out.hdr);
  return out;
}

} // namespace virtactor::protocol::test
