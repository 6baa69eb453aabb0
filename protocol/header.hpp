/// The libvirt RPC message header and framing: a 4-byte length word that counts
/// itself, then program, version, procedure, type, serial and status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/xdr.hpp"

namespace virtactor::protocol {

/// Program numbers (`virnetprotocol.x`, `remote_protocol.x`, ...).
namespace program {
inline constexpr uint32_t remote = 0x20008086;
inline constexpr uint32_t qemu = 0x20008087;
inline constexpr uint32_t lxc = 0x00068000;
inline constexpr uint32_t keepalive = 0x6b656570;
inline constexpr uint32_t admin = 0x06900690;
} // namespace program

/// Every program we speak is at version 1.
inline constexpr uint32_t program_version = 1;

/// `virNetMessageType`.
enum class msg_type : int32_t {
  call = 0,
  reply = 1,
  message = 2,
  stream = 3,
  call_with_fds = 4,
  reply_with_fds = 5,
  stream_hole = 6,
};

/// `virNetMessageStatus`.
enum class msg_status : int32_t {
  ok = 0,
  error = 1,
  cont = 2,
};

/// Size of the length word in front of every message.
inline constexpr uint32_t length_size = 4;

/// Size of the encoded header (without the length word).
inline constexpr uint32_t header_size = 24;

/// Largest header + payload (`VIR_NET_MESSAGE_MAX` in libvirt 9.0: 32 MiB).
inline constexpr uint32_t message_max = 33554432;

/// Largest acceptable length word (it counts itself).
inline constexpr uint32_t length_max = message_max + length_size;

/// Smallest acceptable length word: a header and no payload.
inline constexpr uint32_t length_min = length_size + header_size;

/// `virNetMessageHeader`.
struct header {
  uint32_t prog = program::remote;
  uint32_t vers = program_version;
  int32_t proc = 0;
  msg_type type = msg_type::call;
  uint32_t serial = 0;
  msg_status status = msg_status::ok;

  VA_XDR_FIELDS(prog, vers, proc, type, serial, status)
  bool operator==(const header&) const = default;
};

/// Reads a length word; nullopt when it is outside [length_min, length_max].
std::optional<uint32_t> parse_length(const char* four_bytes);

/// Starts a message: reserves the length word and encodes the header.
/// Append the payload with `xdr::encode_into`, then call `finish_message`.
void begin_message(xdr::buffer& out, const header& hdr);

/// Writes the final length into the word reserved by `begin_message`.
void finish_message(xdr::buffer& out);

/// A whole message: length word, header and the encoded `body`.
template <class T>
xdr::buffer make_message(const header& hdr, const T& body) {
  xdr::buffer out;
  begin_message(out, hdr);
  xdr::encode_into(out, body);
  finish_message(out);
  return out;
}

/// Header plus a pre-encoded payload.
xdr::buffer make_message_raw(const header& hdr, const char* payload, size_t size);

/// Decodes the header at the start of `data` (which excludes the length word).
/// Returns the reason on failure, an empty string on success.
std::string decode_header(const char* data, size_t size, header& out);

/// A human-readable one-liner for logs: "REMOTE proc=23 call serial=6 ok".
std::string to_string(const header& hdr);

} // namespace virtactor::protocol
