#include "drivers/conf/errors.hpp"

#include <cstdio>

#include "drivers/xml/uuid.hpp"
#include "protocol/api_names.hpp"

namespace virtactor::drivers::conf::errors {

virt_error unsupported_flags(uint32_t bad, std::string_view function, error_domain driver) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%x", bad);
  return make_virt_error(error_code::invalid_arg, driver,
                         "unsupported flags (0x" + std::string{hex} + ") in function " +
                           std::string{function});
}

virt_error no_domain(error_domain driver) {
  return make_virt_error(error_code::no_domain, driver, "Domain not found");
}

virt_error no_domain_uuid(const xdr::uuid& uuid, std::string_view name, error_domain driver) {
  return make_virt_error(error_code::no_domain, driver,
                         "Domain not found: no domain with matching uuid '" +
                           xml::format_uuid(uuid) + "' (" + std::string{name} + ")");
}

virt_error internal(std::string message, error_domain driver) {
  return make_virt_error(error_code::internal_error, driver, "internal error: " + message);
}

virt_error invalid_arg(std::string message, error_domain driver) {
  return make_virt_error(error_code::invalid_arg, driver, "invalid argument: " + message);
}

virt_error domain_not_running() {
  return operation_invalid("domain is not running", error_domain::domain);
}

virt_error transient_no_config() {
  return operation_invalid("transient domains do not have any persistent config",
                           error_domain::domain);
}

virt_error exclusive_flags(std::string_view a, std::string_view b) {
  return make_virt_error(error_code::invalid_arg, error_domain::domain,
                         "Flags '" + std::string{a} + "' and '" + std::string{b} +
                           "' are mutually exclusive");
}

virt_error required_flag(std::string_view required, std::string_view by) {
  return make_virt_error(error_code::invalid_arg, error_domain::domain,
                         "Flag '" + std::string{required} + "' is required by flag '" +
                           std::string{by} + "'");
}

virt_error zero_arg(std::string_view arg, std::string_view api, error_domain domain) {
  return make_virt_error(error_code::invalid_arg, domain,
                         std::string{arg} + " in " + std::string{api} + " must not be zero");
}

virt_error operation_invalid(std::string message, error_domain domain) {
  return make_virt_error(error_code::operation_invalid, domain,
                         "Requested operation is not valid: " + message);
}

virt_error operation_failed(std::string message, error_domain domain) {
  return make_virt_error(error_code::operation_failed, domain, "operation failed: " + message);
}

virt_error decode_failed() {
  return make_virt_error(error_code::rpc, error_domain::rpc, "Unable to decode message payload");
}

virt_error forbidden(std::string what, error_domain domain) {
  return make_virt_error(error_code::operation_denied, domain, "operation forbidden: " + what);
}

virt_error unsupported_procedure(int32_t proc) {
  return protocol::unsupported_api_error(proc);
}

} // namespace virtactor::drivers::conf::errors
