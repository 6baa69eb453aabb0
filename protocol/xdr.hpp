/// XDR (RFC 4506) encoding and decoding as libvirt's remote protocol uses it.
///
/// A wire struct describes its fields once with `VA_XDR_FIELDS(a, b, c)`; the
/// same description drives `encoder` and `decoder`. The decoder trusts no
/// length: every count is checked against its declared maximum and against the
/// bytes actually left *before* anything is allocated, and a failure is a sticky
/// error state, never an exception or a crash.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace virtactor::xdr {

/// Byte buffer used for encoded messages (the type `caf::io` brokers use).
using buffer = std::vector<char>;

/// Longest string the remote protocol allows (`REMOTE_STRING_MAX`).
inline constexpr uint32_t string_max = 4194304;

/// A variable-length array `T x<Max>`: a u32 count, then the elements.
template <class T, uint32_t Max>
struct array : std::vector<T> {
  using std::vector<T>::vector;
  static constexpr uint32_t max = Max;
};

/// Variable opaque data `opaque x<Max>`: u32 length, bytes, zero padding.
template <uint32_t Max>
struct opaque : std::vector<uint8_t> {
  using std::vector<uint8_t>::vector;
  static constexpr uint32_t max = Max;
};

/// A string with a bound other than `string_max` (`string x<Max>`).
template <uint32_t Max>
struct bounded_string : std::string {
  using std::string::string;
  bounded_string() = default;
  bounded_string(std::string s) : std::string(std::move(s)) {}
  static constexpr uint32_t max = Max;
};

/// `char x<Max>`: rpcgen promotes each char to a 4-byte word; libvirt carries
/// NUL-terminated text this way, the NUL counted (security model, labels).
template <uint32_t Max>
struct char_array : std::string {
  using std::string::string;
  char_array() = default;
  char_array(std::string s) : std::string(std::move(s)) {}
  static constexpr uint32_t max = Max;
};

/// `char x[N]`: N chars, each a 4-byte word, no count (NODE_GET_INFO model).
template <uint32_t N>
struct fixed_chars : std::string {
  using std::string::string;
  fixed_chars() = default;
  fixed_chars(std::string s) : std::string(std::move(s)) {}
  // Not `size`: that would hide std::string::size().
  static constexpr uint32_t fixed_size = N;
};

/// Fixed opaque `opaque uuid[16]`: exactly 16 bytes, no padding needed.
using uuid = std::array<uint8_t, 16>;

/// The procedure carries no arguments or returns nothing (`void`).
struct empty {
  bool operator==(const empty&) const = default;
};

/// One arm of a discriminated union: discriminant `D` selects type `T`.
template <int32_t D, class T>
struct arm {
  static constexpr int32_t disc = D;
  using type = T;
};

/// A discriminated union `union switch (int d) { case D1: T1; ... }`.
/// Arms may share a type (INT and BOOLEAN are both `int`); the variant
/// index, not the type, tells them apart.
template <class... Arms>
struct union_ {
  using variant_type = std::variant<typename Arms::type...>;
  static constexpr int32_t discs[] = {Arms::disc...};
  variant_type value;

  int32_t discriminant() const { return discs[value.index()]; }
  bool operator==(const union_&) const = default;
};

template <class T>
struct is_union : std::false_type {};
template <class... Arms>
struct is_union<union_<Arms...>> : std::true_type {};

template <class T>
concept has_fields = requires(T& x) { x.xdr_fields(std::declval<int&>()); } || requires(T & x) {
  typename T::xdr_described;
};

/// Appends the XDR form of values to a buffer.
///
/// A value the peer would refuse (a string, opaque or array longer than its
/// maximum, text that does not fit its `char` array) is still written, but the
/// first such violation sticks in `error()`: a sender checks `ok()` before it
/// sends, as libvirt fails with "Unable to encode message payload".
class encoder {
public:
  explicit encoder(buffer& out) : out_(out) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  template <class... Ts>
  void operator()(const Ts&... xs) {
    (put(xs), ...);
  }

  void put(uint32_t x) {
    // resize and store rather than insert: GCC 12 at -O2 warns falsely
    // (-Wstringop-overflow) on a 4-byte insert into a fresh buffer.
    auto at = out_.size();
    out_.resize(at + 4);
    out_[at] = char(x >> 24);
    out_[at + 1] = char(x >> 16);
    out_[at + 2] = char(x >> 8);
    out_[at + 3] = char(x);
  }
  void put(int32_t x) { put(static_cast<uint32_t>(x)); }
  void put(uint64_t x) {
    put(static_cast<uint32_t>(x >> 32));
    put(static_cast<uint32_t>(x));
  }
  void put(int64_t x) { put(static_cast<uint64_t>(x)); }
  void put(bool x) { put(uint32_t{x ? 1u : 0u}); }
  void put(double x) {
    uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    put(u);
  }
  template <class E>
    requires std::is_enum_v<E>
  void put(E x) {
    put(static_cast<int32_t>(x));
  }
  void put(const std::string& x) {
    check(x.size(), string_max, "string longer than its maximum");
    put_bytes(x.data(), x.size());
  }
  template <uint32_t Max>
  void put(const bounded_string<Max>& x) {
    check(x.size(), Max, "string longer than its maximum");
    put_bytes(x.data(), x.size());
  }
  template <uint32_t Max>
  void put(const opaque<Max>& x) {
    check(x.size(), Max, "length longer than its maximum");
    put_bytes(reinterpret_cast<const char*>(x.data()), x.size());
  }
  template <uint32_t Max>
  void put(const char_array<Max>& x) {
    // One word per char plus the terminating NUL, counted.
    check(x.size() + 1, Max, "char array longer than its maximum");
    put(static_cast<uint32_t>(x.size() + 1));
    for (char c : x)
      put(static_cast<int32_t>(static_cast<signed char>(c)));
    put(int32_t{0});
  }
  template <uint32_t N>
  void put(const fixed_chars<N>& x) {
    check(x.size(), N, "fixed char array longer than its size");
    for (uint32_t i = 0; i < N; ++i)
      put(static_cast<int32_t>(i < x.size() ? static_cast<signed char>(x[i]) : 0));
  }
  void put(const uuid& x) {
    // resize + memcpy rather than insert: GCC 12 warns falsely
    // (-Wstringop-overflow) on inserting the uuid into a fresh buffer.
    auto at = out_.size();
    out_.resize(at + x.size());
    std::memcpy(out_.data() + at, x.data(), x.size());
  }
  void put(const empty&) {
    // nop
  }
  template <class T>
  void put(const std::optional<T>& x) {
    put(x.has_value());
    if (x)
      put(*x);
  }
  template <class T, uint32_t Max>
  void put(const array<T, Max>& xs) {
    check(xs.size(), Max, "array longer than its maximum");
    put(static_cast<uint32_t>(xs.size()));
    for (const auto& x : xs)
      put(x);
  }
  template <class... Arms>
  void put(const union_<Arms...>& x) {
    put(x.discriminant());
    std::visit([this](const auto& v) { this->put(v); }, x.value);
  }
  template <class T>
    requires has_fields<T>
  void put(const T& x) {
    x.xdr_fields(*this);
  }

  /// Writes `n` bytes with a length word and zero padding to 4 bytes.
  void put_bytes(const char* data, size_t n) {
    put(static_cast<uint32_t>(n));
    out_.insert(out_.end(), data, data + n);
    static constexpr char zeros[4] = {0, 0, 0, 0};
    out_.insert(out_.end(), zeros, zeros + ((4 - n % 4) % 4));
  }

private:
  void check(size_t n, uint32_t max, const char* what) {
    if (n > max && error_.empty())
      error_ = what;
  }

  buffer& out_;
  std::string error_;
};

/// Reads XDR values from a byte range. The first failure sticks: later reads do
/// nothing, and `ok()` / `error()` report what went wrong.
class decoder {
public:
  decoder(const char* data, size_t size) : pos_(data), end_(data + size) {}
  explicit decoder(const buffer& buf) : decoder(buf.data(), buf.size()) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  const char* position() const { return pos_; }

  template <class... Ts>
  void operator()(Ts&... xs) {
    (get(xs), ...);
  }

  void fail(std::string what) {
    if (error_.empty())
      error_ = std::move(what);
    pos_ = end_;
  }

  void get(uint32_t& x) {
    if (!need(4, "truncated integer"))
      return;
    auto p = reinterpret_cast<const uint8_t*>(pos_);
    x = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    pos_ += 4;
  }
  void get(int32_t& x) {
    uint32_t u = 0;
    get(u);
    x = static_cast<int32_t>(u);
  }
  void get(uint64_t& x) {
    uint32_t hi = 0, lo = 0;
    get(hi);
    get(lo);
    x = (uint64_t{hi} << 32) | lo;
  }
  void get(int64_t& x) {
    uint64_t u = 0;
    get(u);
    x = static_cast<int64_t>(u);
  }
  void get(bool& x) {
    uint32_t u = 0;
    get(u);
    if (ok() && u > 1)
      fail("boolean out of range");
    x = u == 1;
  }
  void get(double& x) {
    uint64_t u = 0;
    get(u);
    std::memcpy(&x, &u, sizeof x);
  }
  template <class E>
    requires std::is_enum_v<E>
  void get(E& x) {
    int32_t i = 0;
    get(i);
    x = static_cast<E>(i);
  }
  void get(std::string& x) { get_bytes(x, string_max); }
  template <uint32_t Max>
  void get(bounded_string<Max>& x) {
    get_bytes(x, Max);
  }
  template <uint32_t Max>
  void get(opaque<Max>& x) {
    uint32_t n = 0;
    const char* p = nullptr;
    if (!get_raw(n, p, Max))
      return;
    x.assign(reinterpret_cast<const uint8_t*>(p), reinterpret_cast<const uint8_t*>(p) + n);
  }
  template <uint32_t Max>
  void get(char_array<Max>& x) {
    uint32_t n = 0;
    get(n);
    if (!ok())
      return;
    if (n > Max)
      return fail("char array longer than its maximum");
    if (remaining() / 4 < n)
      return fail("truncated char array");
    x.clear();
    x.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      int32_t c = 0;
      get(c);
      x.push_back(static_cast<char>(c));
    }
    // libvirt sends the terminating NUL; text ends at the first one.
    if (auto nul = x.find('\0'); nul != std::string::npos)
      x.resize(nul);
  }
  template <uint32_t N>
  void get(fixed_chars<N>& x) {
    if (!need(size_t{N} * 4, "truncated fixed char array"))
      return;
    x.clear();
    for (uint32_t i = 0; i < N; ++i) {
      int32_t c = 0;
      get(c);
      x.push_back(static_cast<char>(c));
    }
    if (auto nul = x.find('\0'); nul != std::string::npos)
      x.resize(nul);
  }
  void get(uuid& x) {
    if (!need(16, "truncated uuid"))
      return;
    std::memcpy(x.data(), pos_, 16);
    pos_ += 16;
  }
  void get(empty&) {
    // nop
  }
  template <class T>
  void get(std::optional<T>& x) {
    uint32_t present = 0;
    get(present);
    if (!ok())
      return;
    if (present > 1)
      return fail("optional marker out of range");
    if (present == 0) {
      x.reset();
      return;
    }
    x.emplace();
    get(*x);
  }
  template <class T, uint32_t Max>
  void get(array<T, Max>& xs) {
    uint32_t n = 0;
    get(n);
    if (!ok())
      return;
    if (n > Max)
      return fail("array longer than its maximum");
    // Every XDR item takes at least 4 bytes: a count that cannot fit in what
    // is left is a lie, refused before any allocation.
    if (remaining() / 4 < n)
      return fail("truncated array");
    xs.clear();
    xs.reserve(n);
    for (uint32_t i = 0; i < n && ok(); ++i) {
      xs.emplace_back();
      get(xs.back());
    }
  }
  template <class... Arms>
  void get(union_<Arms...>& x) {
    int32_t d = 0;
    get(d);
    if (!ok())
      return;
    if (!select_arm<0, Arms...>(x, d))
      fail("union discriminant out of range");
  }
  template <class T>
    requires has_fields<T>
  void get(T& x) {
    x.xdr_fields(*this);
  }

private:
  bool need(size_t n, const char* what) {
    if (!ok())
      return false;
    if (remaining() < n) {
      fail(what);
      return false;
    }
    return true;
  }

  bool get_raw(uint32_t& n, const char*& p, uint32_t max) {
    get(n);
    if (!ok())
      return false;
    if (n > max) {
      fail("length longer than its maximum");
      return false;
    }
    size_t padded = size_t{n} + (4 - n % 4) % 4;
    if (!need(padded, "truncated opaque data"))
      return false;
    p = pos_;
    pos_ += padded;
    return true;
  }

  void get_bytes(std::string& x, uint32_t max) {
    uint32_t n = 0;
    const char* p = nullptr;
    if (get_raw(n, p, max))
      x.assign(p, n);
  }

  template <size_t I, class Arm, class... Rest, class U>
  bool select_arm(U& x, int32_t d) {
    if (Arm::disc == d) {
      auto& v = x.value.template emplace<I>();
      get(v);
      return true;
    }
    if constexpr (sizeof...(Rest) > 0)
      return select_arm<I + 1, Rest...>(x, d);
    else
      return false;
  }

  const char* pos_;
  const char* end_;
  std::string error_;
};

/// Encodes `x` into a fresh buffer.
template <class T>
buffer encode(const T& x) {
  buffer out;
  encoder e{out};
  e.put(x);
  return out;
}

/// Appends the encoding of `x` to `out`.
template <class T>
void encode_into(buffer& out, const T& x) {
  encoder e{out};
  e.put(x);
}

/// Encodes `x` into `out` (replacing its content) and checks every value
/// against its protocol maximum. Returns an empty string on success, else the
/// reason: a peer would refuse such a message, so it must not be sent.
template <class T>
std::string encode_checked(buffer& out, const T& x) {
  out.clear();
  encoder e{out};
  e.put(x);
  return e.ok() ? std::string{} : e.error();
}

/// Decodes `x` from `[data, data + size)`. Trailing bytes are ignored, as
/// libvirtd ignores them. Returns an empty string on success, else the reason.
template <class T>
std::string decode(const char* data, size_t size, T& x) {
  decoder d{data, size};
  d.get(x);
  return d.ok() ? std::string{} : d.error();
}

template <class T>
std::string decode(const buffer& buf, T& x) {
  return decode(buf.data(), buf.size(), x);
}

} // namespace virtactor::xdr

/// Describes a wire struct's fields in wire order, once, for both directions.
#define VA_XDR_FIELDS(...)                                                                         \
  template <class F>                                                                               \
  void xdr_fields(F& f) {                                                                          \
    f(__VA_ARGS__);                                                                                \
  }                                                                                                \
  template <class F>                                                                               \
  void xdr_fields(F& f) const {                                                                    \
    f(__VA_ARGS__);                                                                                \
  }
