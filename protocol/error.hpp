/// The error value of the whole code base: libvirt's code, domain, level and
/// message, as a client sees it from `virGetLastError`; and `result<T>`, a value
/// or such an error (C++20 has no `std::expected`).
#pragma once

#include <cassert>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "protocol/error_codes.hpp"

namespace virtactor {

/// One libvirt error: what `virError` carries that clients use.
struct virt_error {
  error_code code = error_code::internal_error;
  error_domain domain = error_domain::none;
  std::string message;
  error_level level = error_level::error;

  bool operator==(const virt_error&) const = default;
};

/// Shorthand for building an error.
inline virt_error make_virt_error(error_code code, error_domain domain, std::string message) {
  return virt_error{code, domain, std::move(message), error_level::error};
}

/// A failed system call as libvirt words it (VIR_ERR_SYSTEM_ERROR):
/// "WHAT: the errno's text".
inline virt_error make_system_error(error_domain domain, const std::string& what, int err) {
  return make_virt_error(error_code::system_error, domain, what + ": " + std::strerror(err));
}

/// A value of type `T` or a `virt_error`.
template <class T>
class [[nodiscard]] result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  result(virt_error err) : data_(std::in_place_index<1>, std::move(err)) {}

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const virt_error& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }

private:
  std::variant<T, virt_error> data_;
};

/// Success or a `virt_error`.
template <>
class [[nodiscard]] result<void> {
public:
  result() = default;
  result(virt_error err) : err_(std::move(err)) {}

  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const virt_error& error() const {
    assert(!ok());
    return *err_;
  }

private:
  std::optional<virt_error> err_;
};

} // namespace virtactor
