#include "protocol/procedures.hpp"

#include <algorithm>
#include <array>

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
