#include "protocol/header.hpp"

#include <cstring>

namespace virtactor::protocol {

std::optional<uint32_t> parse_length(const char* p) {
  auto u = reinterpret_cast<const uint8_t*>(p);
  uint32_t len = (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
  if (len < length_min || len > length_max)
    return std::nullopt;
  return len;
}

void begin_message(xdr::buffer& out, const header& hdr) {
  out.clear();
  out.reserve(64);
  out.resize(length_size);
  xdr::encode_into(out, hdr);
}

void finish_message(xdr::buffer& out) {
  auto len = static_cast<uint32_t>(out.size());
  out[0] = char(len >> 24);
  out[1] = char(len >> 16);
  out[2] = char(len >> 8);
  out[3] = char(len);
}

xdr::buffer make_message_raw(const header& hdr, const char* payload, size_t size) {
  xdr::buffer out;
  begin_message(out, hdr);
  out.insert(out.end(), payload, payload + size);
  finish_message(out);
  return out;
}

std::string decode_header(const char* data, size_t size, header& out) {
  if (size < header_size)
    return "message shorter than its header";
  return xdr::decode(data, header_size, out);
}

namespace {

const char* program_name(uint32_t prog) {
  switch (prog) {
    case program::remote:
      return "REMOTE";
    case program::qemu:
      return "QEMU";
    case program::lxc:
      return "LXC";
    case program::keepalive:
      return "KEEPALIVE";
    case program::admin:
      return "ADMIN";
    default:
      return "?";
  }
}

const char* type_name(msg_type t) {
  switch (t) {
    case msg_type::call:
      return "call";
    case msg_type::reply:
      return "reply";
    case msg_type::message:
      return "message";
    case msg_type::stream:
      return "stream";
    case msg_type::call_with_fds:
      return "call_with_fds";
    case msg_type::reply_with_fds:
      return "reply_with_fds";
    case msg_type::stream_hole:
      return "stream_hole";
  }
  return nullptr;
}

const char* status_name(msg_status s) {
  switch (s) {
    case msg_status::ok:
      return "ok";
    case msg_status::error:
      return "error";
    case msg_status::cont:
      return "continue";
  }
  return nullptr;
}

} // namespace

std::string to_string(const header& hdr) {
  // Headers come off the wire: values outside the enums print as numbers.
  auto type = type_name(hdr.type);
  auto status = status_name(hdr.status);
  std::string s = program_name(hdr.prog);
  s += " proc=" + std::to_string(hdr.proc) + " ";
  s += type ? type : "type=" + std::to_string(static_cast<int32_t>(hdr.type));
  s += " serial=" + std::to_string(hdr.serial) + " ";
  s += status ? status : "status=" + std::to_string(static_cast<int32_t>(hdr.status));
  return s;
}

} // namespace virtactor::protocol
