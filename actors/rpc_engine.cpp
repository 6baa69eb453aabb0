#include "actors/rpc_engine.hpp"

#include <string_view>

#include "protocol/procedures.hpp"

namespace virtactor::rpc {

using protocol::header;
using protocol::msg_status;
using protocol::msg_type;

std::optional<int32_t> daemon_feature_answer(int32_t f, bool unix_socket) {
  switch (f) {
    case feature::program_keepalive:
    case feature::remote_event_callback:
    case feature::remote_close_callback:
      return 1;
    case feature::fd_passing:
      return unix_socket ? 1 : 0;
    default:
      return std::nullopt;
  }
}

// --- inbound classification ------------------------------------------------------

inbound classify(role r, std::span<const char> data, size_t max_error_length) {
  inbound in;
  if (auto err = protocol::decode_header(data.data(), data.size(), in.hdr); !err.empty()) {
    in.what = kind::malformed;
    in.error = std::move(err);
    return in;
  }
  in.body_offset = protocol::header_size;
  in.body = data.subspan(protocol::header_size);
  const auto& hdr = in.hdr;
  if (hdr.prog == protocol::program::keepalive && hdr.vers == protocol::program_version &&
      hdr.type == msg_type::message) {
    if (hdr.proc == static_cast<int32_t>(protocol::keepalive_proc::ping)) {
      in.what = kind::ping;
      in.answer = keepalive_message(protocol::keepalive_proc::pong);
    } else if (hdr.proc == static_cast<int32_t>(protocol::keepalive_proc::pong)) {
      in.what = kind::pong;
    } else {
      in.what = kind::ignored; // an unknown keepalive procedure
    }
    return in;
  }
  if (r == role::server) {
    if (hdr.type != msg_type::call) {
      // libvirtd ignores replies and events from clients; streams are not open.
      in.what = kind::ignored;
    } else if (hdr.prog != protocol::program::remote || hdr.vers != protocol::program_version) {
      in.what = kind::wrong_program;
      in.answer = reply_wrong_program(hdr, max_error_length);
    } else {
      in.what = kind::call;
    }
    return in;
  }
  if (hdr.prog != protocol::program::remote)
    in.what = kind::ignored;
  else if (hdr.type == msg_type::reply)
    in.what = kind::reply; // matched by serial, as libvirt's client does
  else if (hdr.type == msg_type::message && hdr.vers == protocol::program_version)
    in.what = kind::event;
  else
    in.what = kind::ignored;
  return in;
}

// --- keepalive ---------------------------------------------------------------------

void keepalive::start(time_point now) {
  if (running_ || interval_ <= std::chrono::seconds{0})
    return;
  running_ = true;
  interval_start_ = now;
  count_to_death_ = count_;
}

void keepalive::on_receive(time_point now) {
  interval_start_ = now;
  count_to_death_ = count_;
}

std::optional<keepalive::time_point> keepalive::next_deadline() const {
  if (!running_)
    return std::nullopt;
  return interval_start_ + interval_;
}

keepalive::action keepalive::on_timer(time_point now) {
  if (!running_ || now - interval_start_ < interval_)
    return action::none;
  if (count_to_death_ <= 0) {
    running_ = false;
    return action::dead;
  }
  --count_to_death_;
  interval_start_ = now;
  return action::ping;
}

xdr::buffer keepalive_message(protocol::keepalive_proc p) {
  header h;
  h.prog = protocol::program::keepalive;
  h.proc = static_cast<int32_t>(p);
  h.type = msg_type::message;
  h.serial = 0;
  return protocol::make_message(h, xdr::empty{});
}

// --- calls and replies (client) --------------------------------------------------

xdr::buffer call_message(int32_t proc, uint32_t serial, std::span<const char> args) {
  header h;
  h.proc = proc;
  h.type = msg_type::call;
  h.serial = serial;
  return protocol::make_message_raw(h, args.data(), args.size());
}

virt_error from_remote_error(const protocol::remote_error& re) {
  virt_error e;
  e.code = static_cast<error_code>(re.code);
  e.domain = static_cast<error_domain>(re.domain);
  e.message = re.message.value_or("");
  e.level = static_cast<error_level>(re.level);
  if (e.code == error_code::rpc && e.level == error_level::error &&
      (e.domain == error_domain::rpc || e.domain == error_domain::remote) &&
      e.message.rfind("unknown procedure", 0) == 0)
    e.code = error_code::no_support;
  return e;
}

result<std::span<const char>> decode_reply(const header& hdr, std::span<const char> body) {
  if (hdr.status == msg_status::ok)
    return body;
  protocol::remote_error re;
  if (auto err = xdr::decode(body.data(), body.size(), re); !err.empty())
    return payload_error();
  return from_remote_error(re);
}

// --- replies and errors (server) -------------------------------------------------

header reply_header(const header& call, msg_status status) {
  header h = call;
  h.type = msg_type::reply;
  h.status = status;
  return h;
}

xdr::buffer reply_ok(const header& call, std::span<const char> payload) {
  return protocol::make_message_raw(reply_header(call, msg_status::ok), payload.data(),
                                    payload.size());
}

std::string bounded(std::string text, size_t max) {
  if (text.size() <= max)
    return text;
  constexpr std::string_view mark = " [truncated]";
  size_t keep = max > mark.size() ? max - mark.size() : 0;
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80)
    --keep;
  text.resize(keep);
  text += mark.substr(0, max - keep);
  return text;
}

protocol::remote_error to_remote_error(const virt_error& e, size_t max_length) {
  protocol::remote_error r;
  r.code = static_cast<int32_t>(e.code);
  r.domain = static_cast<int32_t>(e.domain);
  r.message = bounded(e.message, max_length);
  r.level = static_cast<int32_t>(e.level);
  r.str1 = r.message;
  return r;
}

xdr::buffer reply_error(const header& call, const virt_error& e, size_t max_length) {
  return protocol::make_message(reply_header(call, msg_status::error),
                                to_remote_error(e, max_length));
}

protocol::remote_error rpc_layer_error(error_code code, std::string format, std::string detail,
                                       std::string message) {
  protocol::remote_error r;
  r.code = static_cast<int32_t>(code);
  r.domain = static_cast<int32_t>(error_domain::rpc);
  r.message = std::move(message);
  r.level = static_cast<int32_t>(error_level::error);
  r.str1 = std::move(format);
  r.str2 = std::move(detail);
  return r;
}

xdr::buffer reply_rpc_error(const header& call, error_code code, std::string format,
                            std::string detail, std::string message) {
  return protocol::make_message(
    reply_header(call, msg_status::error),
    rpc_layer_error(code, std::move(format), std::move(detail), std::move(message)));
}

xdr::buffer reply_unknown_proc(const header& call) {
  auto text = "unknown procedure: " + std::to_string(call.proc);
  return reply_rpc_error(call, error_code::rpc, "%s", text, text);
}

xdr::buffer reply_auth_required(const header& call) {
  return reply_rpc_error(call, error_code::rpc, "%s", "authentication required",
                         "authentication required");
}

xdr::buffer reply_auth_failed(const header& call) {
  return reply_rpc_error(call, error_code::auth_failed, "authentication failed: %s",
                         "authentication failed", "authentication failed: authentication failed");
}

xdr::buffer reply_wrong_program(const header& call, size_t max_length) {
  return reply_error(call,
                     rpc_error("Cannot find program " + std::to_string(call.prog) + " version " +
                               std::to_string(call.vers)),
                     max_length);
}

virt_error rpc_error(std::string message) {
  return make_virt_error(error_code::rpc, error_domain::rpc, std::move(message));
}

virt_error unexpected_status_error(msg_status status) {
  return rpc_error("Unexpected message status " + std::to_string(static_cast<int32_t>(status)));
}

virt_error payload_error() {
  return rpc_error("Unable to decode message payload");
}

// --- events ------------------------------------------------------------------------

xdr::buffer event_message(int32_t proc, std::span<const char> body) {
  header h;
  h.proc = proc;
  h.type = msg_type::message;
  h.serial = 1; // what libvirtd 9.0 sends on events; clients ignore it
  return protocol::make_message_raw(h, body.data(), body.size());
}

namespace {

template <class T>
xdr::buffer event_of(int32_t proc, const T& msg) {
  header h;
  h.proc = proc;
  h.type = msg_type::message;
  h.serial = 1;
  return protocol::make_message(h, msg);
}

/// An event whose message is the domain alone (reboot, control error).
template <class Msg, class CallbackMsg>
xdr::buffer domain_only_event(const domain_event& ev, bool legacy, int32_t legacy_proc,
                              int32_t callback_proc) {
  Msg msg{ev.dom};
  if (legacy)
    return event_of(legacy_proc, msg);
  return event_of(callback_proc, CallbackMsg{ev.callback_id, msg});
}

template <class T>
bool decode_body(std::span<const char> body, T& out) {
  return xdr::decode(body.data(), body.size(), out).empty();
}

} // namespace

std::optional<xdr::buffer> encode_event(const domain_event& ev, bool legacy) {
  switch (static_cast<domain_event_id>(ev.event_id)) {
    case domain_event_id::lifecycle: {
      protocol::domain_event_lifecycle_msg msg{ev.dom, ev.event, ev.detail};
      if (legacy)
        return event_of(protocol::proc_domain_event_lifecycle, msg);
      return event_of(protocol::proc_domain_event_callback_lifecycle,
                      protocol::domain_event_callback_lifecycle_msg{ev.callback_id, msg});
    }
    case domain_event_id::reboot:
      return domain_only_event<protocol::domain_event_reboot_msg,
                               protocol::domain_event_callback_reboot_msg>(
        ev, legacy, protocol::proc_domain_event_reboot,
        protocol::proc_domain_event_callback_reboot);
    case domain_event_id::control_error:
      return domain_only_event<protocol::domain_event_control_error_msg,
                               protocol::domain_event_callback_control_error_msg>(
        ev, legacy, protocol::proc_domain_event_control_error,
        protocol::proc_domain_event_callback_control_error);
  }
  return std::nullopt;
}

xdr::buffer encode_event(const connection_closed& cc) {
  return event_of(protocol::proc_connect_event_connection_closed,
                  protocol::connect_event_connection_closed_msg{cc.reason});
}

std::optional<event> decode_event(int32_t proc, std::span<const char> body) {
  constexpr auto lifecycle = static_cast<int32_t>(domain_event_id::lifecycle);
  constexpr auto reboot = static_cast<int32_t>(domain_event_id::reboot);
  constexpr auto control_error = static_cast<int32_t>(domain_event_id::control_error);
  switch (proc) {
    case protocol::proc_domain_event_callback_lifecycle: {
      protocol::domain_event_callback_lifecycle_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{domain_event{m.callback_id, lifecycle, m.msg.dom, m.msg.event, m.msg.detail},
                   false};
    }
    case protocol::proc_domain_event_lifecycle: {
      protocol::domain_event_lifecycle_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{domain_event{0, lifecycle, m.dom, m.event, m.detail}, true};
    }
    case protocol::proc_domain_event_callback_reboot: {
      protocol::domain_event_callback_reboot_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{domain_event{m.callback_id, reboot, m.msg.dom, 0, 0}, false};
    }
    case protocol::proc_domain_event_reboot: {
      protocol::domain_event_reboot_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{domain_event{0, reboot, m.dom, 0, 0}, true};
    }
    case protocol::proc_domain_event_callback_control_error: {
      protocol::domain_event_callback_control_error_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{domain_event{m.callback_id, control_error, m.msg.dom, 0, 0}, false};
    }
    case protocol::proc_domain_event_control_error: {
      protocol::domain_event_control_error_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{domain_event{0, control_error, m.dom, 0, 0}, true};
    }
    case protocol::proc_connect_event_connection_closed: {
      protocol::connect_event_connection_closed_msg m;
      if (!decode_body(body, m))
        return std::nullopt;
      return event{connection_closed{m.reason}, false};
    }
    default:
      return std::nullopt;
  }
}

} // namespace virtactor::rpc
