/// A security layer over a byte stream (SASL's SSF layer, libvirt's
/// `virNetSocketSetSASLSession`): once a peer installs one in its frame
/// broker, every byte after that point is encoded on the way out and decoded
/// on the way in. Used only on the broker's thread.
#pragma once

#include <cstddef>
#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>

#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor {

class stream_codec {
public:
  virtual ~stream_codec() = default;

  /// The most plaintext bytes `encode` takes at once.
  virtual size_t max_encode() const = 0;

  /// Appends the encoding of `size` bytes at `data` to `out`.
  virtual result<void> encode(const char* data, size_t size, xdr::buffer& out) = 0;

  /// Appends the plaintext of `size` received bytes to `out`; a partial
  /// packet is kept inside until the rest arrives (nothing appended yet).
  virtual result<void> decode(const char* data, size_t size, xdr::buffer& out) = 0;
};

} // namespace virtactor

// Travels (as a pointer) from a peer to its broker.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::stream_codec>)
