/// The QMP codec: QEMU's monitor output cut into whole JSON objects and
/// classified (greeting, reply, error reply, event), and commands encoded.
/// Pure code, no actors; JSON values cross this header as text so that its
/// users need no JSON library (the implementation uses nlohmann-json).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::qemu::qmp {

/// Longest line accepted from QEMU before the stream counts as garbage.
inline constexpr std::size_t default_max_line = std::size_t{16} << 20;

/// Deepest JSON nesting accepted (QEMU's own input limit is 1024; its output
/// stays below 10).
inline constexpr int max_depth = 256;

/// What one line from QEMU is.
enum class message_kind : uint8_t {
  greeting, ///< `{"QMP": {...}}`, once per connection
  reply,    ///< `{"return": VALUE, "id": ID}`
  error,    ///< `{"error": {"class": C, "desc": D}, "id": ID}`
  event,    ///< `{"event": NAME, "data": {...}, "timestamp": {...}}`
};

/// One classified message.
struct message {
  message_kind kind = message_kind::reply;
  /// The `id` member as compact JSON text (`5`, `"libvirt-5"`); empty when
  /// the message has none (greetings, events, replies to id-less commands).
  std::string id;
  /// Greeting: the `QMP` object; reply: the `return` value; event: the
  /// `data` object, empty when the event has none. Compact JSON text.
  std::string json;
  /// Error replies: QEMU's error class and its human-readable description.
  std::string error_class;
  std::string error_desc;
  /// Events: the name and QEMU's host wall-clock timestamp.
  std::string event;
  int64_t seconds = 0;
  int64_t microseconds = 0;
};

/// Parses one line from QEMU (without its line end). Errors are libvirt's
/// VIR_ERR_INTERNAL_ERROR texts for a broken monitor reply.
result<message> parse_line(std::string_view line);

/// An incremental reader: bytes in as they arrive (any split, several lines
/// per read), whole messages out. Lines end in "\r\n" (a bare "\n" is
/// accepted); blank lines are skipped. A line longer than `max_line` or one
/// that is not a QMP message stops the reader: that call and every later one
/// return the error.
class reader {
public:
  explicit reader(std::size_t max_line = default_max_line) : max_line_(max_line) {}

  /// Consumes `bytes` and appends each complete message to `out`, in order.
  /// Messages before a bad line are still appended.
  result<void> feed(std::string_view bytes, std::vector<message>& out);

  /// Bytes held back waiting for the end of their line.
  std::size_t buffered() const { return buf_.size() - start_; }

private:
  std::size_t max_line_;
  std::string buf_;
  std::size_t start_ = 0;   // first byte of the current line in buf_
  std::size_t scanned_ = 0; // bytes from start_ already known to hold no '\n'
  std::optional<virt_error> failed_;
};

/// One command, ready to write: `{"execute":NAME,"arguments":ARGS,"id":ID}`
/// and "\r\n". `arguments` is JSON text of an object, or empty for none.
/// Errors: an empty name, or arguments that are not a JSON object.
result<std::string> encode_command(std::string_view name, std::string_view arguments,
                                   uint64_t id);

/// The `id` text `encode_command` gives `id` (how its reply's `id` reads).
std::string id_text(uint64_t id);

/// libvirt's error for an error reply to `command`: VIR_ERR_INTERNAL_ERROR
/// "internal error: unable to execute QEMU command 'NAME': DESC".
virt_error command_error(std::string_view command, const message& reply);

} // namespace virtactor::qemu::qmp
