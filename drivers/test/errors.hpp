/// The test driver's errors: the shared core's (drivers/conf/errors.hpp),
/// with VIR_FROM_TEST where libvirt's test driver reports from its own file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "drivers/conf/errors.hpp"

namespace virtactor::drivers::test::errors {

using namespace conf::errors;

/// `virCheckFlags` in a testXxx function (8, TEST).
inline virt_error unsupported_flags(uint32_t bad, std::string_view function) {
  return conf::errors::unsupported_flags(bad, function, error_domain::test);
}

/// "Domain not found" (42, TEST).
inline virt_error no_domain() {
  return conf::errors::no_domain(error_domain::test);
}

/// "Domain not found: no domain with matching uuid '...' (name)" (42, TEST).
inline virt_error no_domain_uuid(const xdr::uuid& uuid, std::string_view name) {
  return conf::errors::no_domain_uuid(uuid, name, error_domain::test);
}

/// VIR_ERR_INTERNAL_ERROR, domain TEST.
inline virt_error internal(std::string message) {
  return conf::errors::internal(std::move(message), error_domain::test);
}

/// VIR_ERR_INVALID_ARG, domain TEST.
inline virt_error invalid_arg(std::string message) {
  return conf::errors::invalid_arg(std::move(message), error_domain::test);
}

} // namespace virtactor::drivers::test::errors
