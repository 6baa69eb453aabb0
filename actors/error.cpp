#include "actors/error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace virtactor {

caf::error to_caf_error(const virt_error& e) {
  return caf::error{static_cast<uint8_t>(e.code), virt_error_category,
                    caf::make_message(static_cast<int32_t>(e.domain), e.message,
                                      static_cast<int32_t>(e.level))};
}

caf::error make_caf_error(error_code code, error_domain domain, std::string message) {
  return to_caf_error(make_virt_error(code, domain, std::move(message)));
}

virt_error from_caf_error(const caf::error& err, std::string_view what) {
  if (err.category() == virt_error_category) {
    virt_error out;
    out.code = static_cast<error_code>(err.code());
    auto& ctx = err.context();
    if (ctx.match_elements<int32_t, std::string, int32_t>()) {
      out.domain = static_cast<error_domain>(ctx.get_as<int32_t>(0));
      out.message = ctx.get_as<std::string>(1);
      out.level = static_cast<error_level>(ctx.get_as<int32_t>(2));
    }
    return out;
  }
  std::string op = what.empty() ? std::string{"the call"} : std::string{what};
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return make_virt_error(error_code::operation_timeout, error_domain::rpc,
                               "Timed out during operation: " + op + " did not complete in time");
      case caf::sec::request_receiver_down:
        return make_virt_error(error_code::internal_error, error_domain::rpc,
                               "internal error: client socket is closed");
      default:
        break;
    }
  }
  return make_virt_error(error_code::internal_error, error_domain::rpc,
                         "internal error: " + op + " failed: " + caf::to_string(err));
}

} // namespace virtactor
