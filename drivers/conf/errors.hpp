/// The errors the shared domain core and every driver raise, spelled once:
/// code, domain and message text as libvirt 9.0 reports them. Functions that
/// take a `driver` domain word an error the way each driver's own file does
/// (VIR_FROM_TEST in the test driver, VIR_FROM_QEMU in the qemu driver).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::conf::errors {

/// `virCheckFlags`: "unsupported flags (0x...) in function drvXxx" (8).
virt_error unsupported_flags(uint32_t bad, std::string_view function, error_domain driver);

/// True when `flags` has no bit outside `allowed`.
inline bool flags_ok(uint32_t flags, uint32_t allowed) {
  return (flags & ~allowed) == 0;
}

/// "Domain not found" (42): lookups by name, uuid or id.
virt_error no_domain(error_domain driver);

/// "Domain not found: no domain with matching uuid '...' (name)" (42).
virt_error no_domain_uuid(const xdr::uuid& uuid, std::string_view name, error_domain driver);

/// VIR_ERR_INTERNAL_ERROR with the "internal error: " prefix.
virt_error internal(std::string message, error_domain driver);

/// VIR_ERR_INVALID_ARG with the "invalid argument: " prefix.
virt_error invalid_arg(std::string message, error_domain driver);

/// `virDomainObjCheckActive`: "Requested operation is not valid: domain is not
/// running" (55, DOMAIN).
virt_error domain_not_running();

/// "transient domains do not have any persistent config" (55, DOMAIN).
virt_error transient_no_config();

/// `VIR_EXCLUSIVE_FLAGS`: "Flags 'A' and 'B' are mutually exclusive" (8, DOMAIN).
virt_error exclusive_flags(std::string_view a, std::string_view b);

/// `VIR_REQUIRE_FLAG`: "Flag 'B' is required by flag 'A'" (8, DOMAIN).
virt_error required_flag(std::string_view required, std::string_view by);

/// `virCheckNonZeroArg` in a public API: "ARG in API must not be zero" (8, `domain`).
virt_error zero_arg(std::string_view arg, std::string_view api, error_domain domain);

/// VIR_ERR_OPERATION_INVALID with its prefix, in `domain`.
virt_error operation_invalid(std::string message, error_domain domain);

/// VIR_ERR_OPERATION_FAILED with its prefix, in `domain`.
virt_error operation_failed(std::string message, error_domain domain);

/// "Unable to decode message payload" (39, RPC): undecodable arguments.
virt_error decode_failed();

/// `virReportRestrictedError` for a flag: "operation forbidden: WHAT" (29, `domain`).
virt_error forbidden(std::string what, error_domain domain);

/// libvirt's NO_SUPPORT error for a procedure the driver lacks: "this function
/// is not supported by the connection driver: virXxx" (3, the domain of the
/// API's object, e.g. SECRET for virConnectNumOfSecrets).
virt_error unsupported_procedure(int32_t proc);

} // namespace virtactor::drivers::conf::errors
