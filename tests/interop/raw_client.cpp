#include "tests/interop/raw_client.hpp"

#include <cerrno>
#include <cstring>
#include <ostream>

#include <poll.h>
#include <sys/socket.h>

namespace virtactor::interop {

using protocol::header;
using protocol::msg_status;
using protocol::msg_type;

protocol::remote_error raw_message::error() const {
  return value<protocol::remote_error>();
}

std::string describe(const protocol::remote_error& e) {
  return "code " + std::to_string(e.code) + " domain " + std::to_string(e.domain) + ": " +
         e.message.value_or("(no message)");
}

std::ostream& operator<<(std::ostream& out, read_status st) {
  switch (st) {
    case read_status::message:
      return out << "message";
    case read_status::closed:
      return out << "closed";
    case read_status::timed_out:
      return out << "timed out";
  }
  return out << "?";
}

raw_client raw_client::unix_socket(const std::string& path) {
  auto fd = connect_unix(path, 10000);
  if (!fd)
    throw std::runtime_error(fd.error().message);
  return raw_client{std::move(*fd)};
}

raw_client raw_client::tcp(uint16_t port) {
  auto fd = connect_tcp("127.0.0.1", port, 10000);
  if (!fd)
    throw std::runtime_error(fd.error().message);
  return raw_client{std::move(*fd)};
}

bool raw_client::send_bytes(const void* data, size_t size) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    auto n = ::send(fd_.get(), p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

xdr::buffer raw_client::frame(const header& hdr, const xdr::buffer& payload) {
  return protocol::make_message_raw(hdr, payload.data(), payload.size());
}

header raw_client::next_call(int32_t proc) {
  header h;
  h.proc = proc;
  h.type = msg_type::call;
  h.serial = ++serial_;
  return h;
}

uint32_t raw_client::send_call(int32_t proc, const xdr::buffer& payload) {
  auto h = next_call(proc);
  send_bytes(frame(h, payload));
  return h.serial;
}

bool raw_client::send_keepalive(protocol::keepalive_proc p) {
  header h;
  h.prog = protocol::program::keepalive;
  h.proc = static_cast<int32_t>(p);
  h.type = msg_type::message;
  h.serial = 0;
  return send_bytes(frame(h, {}));
}

read_status raw_client::read_any(raw_message& out, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (in_.size() >= protocol::length_size) {
      uint32_t len = 0;
      for (size_t i = 0; i < protocol::length_size; ++i)
        len = (len << 8) | static_cast<uint8_t>(in_[i]);
      if (len < protocol::length_min)
        throw std::runtime_error("the server sent a length word of " + std::to_string(len));
      if (in_.size() >= len) {
        auto body = in_.data() + protocol::length_size;
        if (auto err = protocol::decode_header(body, len - protocol::length_size, out.hdr);
            !err.empty())
          throw std::runtime_error("the server sent a bad header: " + err);
        out.payload.assign(body + protocol::header_size, in_.data() + len);
        in_.erase(in_.begin(), in_.begin() + len);
        return read_status::message;
      }
    }
    if (!fd_)
      return read_status::closed;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      return read_status::timed_out;
    char chunk[65536];
    auto got = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (got <= 0) // EOF, or ECONNRESET when the server closed with unread input
      return read_status::closed;
    in_.insert(in_.end(), chunk, chunk + got);
  }
}

read_status raw_client::read(raw_message& out, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    auto st = read_any(out, std::max(left, std::chrono::milliseconds{0}));
    if (st != read_status::message)
      return st;
    if (!out.is_keepalive(protocol::keepalive_proc::ping))
      return st;
    ++pings_seen;
    if (!answer_pings)
      return st;
    send_keepalive(protocol::keepalive_proc::pong);
  }
}

std::optional<raw_message> raw_client::wait_reply(uint32_t serial,
                                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  raw_message msg;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (read(msg, std::max(left, std::chrono::milliseconds{0})) != read_status::message)
      return std::nullopt;
    if (msg.is_reply() && msg.hdr.serial == serial)
      return msg;
  }
}

raw_message raw_client::call(int32_t proc, const xdr::buffer& payload,
                             std::chrono::milliseconds timeout) {
  auto serial = send_call(proc, payload);
  auto reply = wait_reply(serial, timeout);
  if (!reply)
    throw std::runtime_error("no reply to procedure " + std::to_string(proc) + " (serial " +
                             std::to_string(serial) + ")");
  return std::move(*reply);
}

void raw_client::open(const std::string& uri) {
  protocol::connect_open_args args;
  args.name = uri;
  auto reply = call(static_cast<int32_t>(protocol::proc::connect_open), xdr::encode(args));
  if (reply.is_error())
    throw std::runtime_error("CONNECT_OPEN failed: " + describe(reply.error()));
}

bool raw_client::closed_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  raw_message msg;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    switch (read(msg, std::max(left, std::chrono::milliseconds{0}))) {
      case read_status::closed:
        return true;
      case read_status::timed_out:
        return false;
      case read_status::message:
        break;
    }
  }
}

} // namespace virtactor::interop
