/// Test support: fills any wire struct with non-trivial values that change
/// with a seed, so that a handful of seeds reach every string length 0..5,
/// both states of every optional, arrays of 0..4 elements and every arm of
/// every union.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "protocol/xdr.hpp"

namespace virtactor::protocol::test {

/// Fills values field by field. Numbers come from a counter that starts at
/// the seed and advances with every value, so neighbouring fields differ.
/// Shapes are chosen so that seeds 0..11 cover every case for every field:
/// the k-th string of a value is (seed + k) % 6 long, the k-th array holds
/// (seed + k) % 5 elements, the k-th union takes arm (seed + k) % arms, and
/// the k-th optional is present when (seed / 6 + k) is odd, so each half of
/// the seeds sees every string length with each optional state.
class sampler {
public:
  explicit sampler(uint32_t seed) : seed_(seed), n_(seed) {}

  template <class... Ts>
  void operator()(Ts&... xs) {
    (fill(xs), ...);
  }

  void fill(uint32_t& x) { x = 0x80000000u + step() * 2654435761u % 1000003u; }
  void fill(int32_t& x) { x = static_cast<int32_t>(step() % 7) - 3; }
  void fill(uint64_t& x) { x = 0xfedcba9800000000ull + step(); }
  void fill(int64_t& x) { x = -static_cast<int64_t>(step()) * 1000000007ll; }
  void fill(double& x) { x = -1.5 + static_cast<double>(step()) / 8; }
  void fill(bool& x) { x = step() % 2 == 1; }
  template <class E>
    requires std::is_enum_v<E>
  void fill(E& x) {
    x = static_cast<E>(step() % 3);
  }
  void fill(std::string& x) { x = text(string_length()); }
  template <uint32_t Max>
  void fill(xdr::bounded_string<Max>& x) {
    x = text(std::min<uint32_t>(string_length(), Max));
  }
  template <uint32_t Max>
  void fill(xdr::char_array<Max>& x) {
    x = text(std::min<uint32_t>(string_length(), Max - 1));
  }
  template <uint32_t N>
  void fill(xdr::fixed_chars<N>& x) {
    // Lengths up to N, and N itself, which leaves no NUL on the wire.
    x = text((seed_ + strings_++) * 7 % (N + 1));
  }
  template <uint32_t Max>
  void fill(xdr::opaque<Max>& x) {
    auto s = text(std::min<uint32_t>(string_length(), Max));
    x.assign(s.begin(), s.end());
  }
  void fill(xdr::uuid& x) {
    auto base = step();
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<uint8_t>(base * 37 + i * 11);
  }
  void fill(xdr::empty&) {
    // nop
  }
  template <class T>
  void fill(std::optional<T>& x) {
    if ((seed_ / 6 + optionals_++) % 2 == 0) {
      x.reset();
    } else {
      x.emplace();
      fill(*x);
    }
  }
  template <class T, uint32_t Max>
  void fill(xdr::array<T, Max>& xs) {
    xs.clear();
    auto n = std::min<uint32_t>((seed_ + arrays_++) % 5, Max);
    for (uint32_t i = 0; i < n; ++i)
      fill(xs.emplace_back());
  }
  template <class... Arms>
  void fill(xdr::union_<Arms...>& x) {
    fill_arm<0, Arms...>(x, (seed_ + unions_++) % sizeof...(Arms));
  }
  template <class T>
    requires xdr::has_fields<T>
  void fill(T& x) {
    x.xdr_fields(*this);
  }

  /// Printable text of length `n` that differs from call to call.
  std::string text(uint32_t n) {
    std::string s;
    for (uint32_t i = 0; i < n; ++i)
      s.push_back(static_cast<char>('a' + (n_ + i * 7) % 26));
    return s;
  }

private:
  uint32_t step() { return n_++; }
  uint32_t string_length() { return (seed_ + strings_++) % 6; }

  template <size_t I, class Arm, class... Rest, class U>
  void fill_arm(U& x, size_t pick) {
    if (pick == I || sizeof...(Rest) == 0) {
      fill(x.value.template emplace<I>());
      return;
    }
    if constexpr (sizeof...(Rest) > 0)
      fill_arm<I + 1, Rest...>(x, pick);
  }

  uint32_t seed_;
  uint32_t n_;
  uint32_t strings_ = 0;
  uint32_t optionals_ = 0;
  uint32_t arrays_ = 0;
  uint32_t unions_ = 0;
};

/// A value of `T` filled by `sampler{seed}`.
template <class T>
T sample(uint32_t seed) {
  T x{};
  sampler s{seed};
  s.fill(x);
  return x;
}

} // namespace virtactor::protocol::test
