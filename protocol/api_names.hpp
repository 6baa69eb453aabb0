/// libvirt's public API names for REMOTE procedures, as libvirt's errors
/// spell them: a driver that lacks a procedure reports "this function is not
/// supported by the connection driver: virStorageVolWipe" (code NO_SUPPORT,
/// the domain of the API's object), never the procedure's number or name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/error.hpp"

namespace virtactor::protocol {

/// The public API behind REMOTE procedure `proc` ("virDomainPMWakeup" for
/// DOMAIN_PM_WAKEUP, "virConnectDomainEventRegisterAny" for
/// CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY); "procedure N" for a number
/// libvirt 9.0 does not define.
std::string api_name(int32_t proc);

/// The error domain of the public API file that declares procedure `name`
/// (STORAGE for STORAGE_VOL_WIPE, SECRET for CONNECT_NUM_OF_SECRETS).
error_domain api_domain(std::string_view name);

/// libvirt's error for a procedure the driver lacks (NO_SUPPORT).
virt_error unsupported_api_error(int32_t proc);

} // namespace virtactor::protocol
