#include "protocol/procedures.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <type_traits>

namespace virtactor::protocol {

namespace {

#define VA_PROC_INFO(p, A, R, api_name, acc) proc_info{proc::p, api_name, access::acc},
constexpr proc_info table[] = {VA_REMOTE_PROCS(VA_PROC_INFO)};
#undef VA_PROC_INFO

constexpr bool sorted_by_number() {
  for (size_t i = 1; i < std::size(table); ++i)
    if (static_cast<int32_t>(table[i - 1].id) >= static_cast<int32_t>(table[i].id))
      return false;
  return true;
}
static_assert(sorted_by_number(), "VA_REMOTE_PROCS must list procedures in number order");

} // namespace

const proc_info* find_proc_info(int32_t number) {
  auto it = std::lower_bound(std::begin(table), std::end(table), number,
                             [](const proc_info& x, int32_t n) { return static_cast<int32_t>(x.id) < n; });
  if (it != std::end(table) && static_cast<int32_t>(it->id) == number)
    return it;
  return nullptr;
}

std::string decode_args(int32_t number, const char* data, size_t size, std::any& out) {
  switch (number) {
#define VA_DECODE_ARGS(p, A, R, api_name, acc)                                                      \
  case static_cast<int32_t>(proc::p): {                                                            \
    A args;                                                                                        \
    auto err = xdr::decode(data, size, args);                                                      \
    if (err.empty())                                                                               \
      out = std::move(args);                                                                       \
    return err;                                                                                    \
  }
    VA_REMOTE_PROCS(VA_DECODE_ARGS)
#undef VA_DECODE_ARGS
    default:
      return {};
  }
}

namespace {

/// Records the kind of the first field a struct describes.
struct first_field_kind {
  object_kind kind = object_kind::connect;
  template <class T, class... Ts>
  void operator()(const T&, const Ts&...) {
    if constexpr (std::is_same_v<T, nonnull_domain>)
      kind = object_kind::domain;
    else if constexpr (std::is_same_v<T, nonnull_network>)
      kind = object_kind::network;
    else if constexpr (std::is_same_v<T, nonnull_storage_pool>)
      kind = object_kind::pool;
    else if constexpr (std::is_same_v<T, nonnull_storage_vol>)
      kind = object_kind::volume;
  }
  void operator()() {}
};

template <class A>
object_kind kind_of() {
  if constexpr (std::is_same_v<A, xdr::empty>) {
    return object_kind::connect;
  } else {
    first_field_kind k;
    A probe{};
    probe.xdr_fields(k);
    return k.kind;
  }
}

} // namespace

object_kind object_of(int32_t number) {
  // Computed once from the table: the object column is derived, never typed in.
  static const auto kinds = [] {
#define VA_OBJECT_KIND(p, A, R, api_name, acc) kind_of<A>(),
    return std::array<object_kind, std::size(table)>{VA_REMOTE_PROCS(VA_OBJECT_KIND)};
#undef VA_OBJECT_KIND
  }();
  auto info = find_proc_info(number);
  return info ? kinds[static_cast<size_t>(info - std::begin(table))] : object_kind::connect;
}

object_kind family_of(int32_t number) {
  auto info = find_proc_info(number);
  if (!info)
    return object_kind::connect;
  std::string_view api{info->api};
  if (api.find("StorageVol") != std::string_view::npos)
    return object_kind::volume;
  if (api.find("StoragePool") != std::string_view::npos)
    return object_kind::pool;
  if (api.find("Network") != std::string_view::npos)
    return object_kind::network;
  if (api.find("Domain") != std::string_view::npos)
    return object_kind::domain;
  return object_kind::connect;
}

std::string check_args(int32_t number, const char* data, size_t size) {
  switch (number) {
#define VA_CHECK_ARGS(p, A, R, api_name, acc)                                                       \
  case static_cast<int32_t>(proc::p): {                                                            \
    A args;                                                                                        \
    return xdr::decode(data, size, args);                                                          \
  }
    VA_REMOTE_PROCS(VA_CHECK_ARGS)
#undef VA_CHECK_ARGS
    default:
      return {};
  }
}

} // namespace virtactor::protocol
