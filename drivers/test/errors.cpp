#include "drivers/test/errors.hpp"

#include <cctype>
#include <cstdio>
#include <vector>

#include "drivers/xml/uuid.hpp"
#include "protocol/procedure_numbers.hpp"

namespace virtactor::drivers::test::errors {

virt_error unsupported_flags(uint32_t bad, std::string_view function) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%x", bad);
  return make_virt_error(error_code::invalid_arg, error_domain::test,
                         "unsupported flags (0x" + std::string{hex} + ") in function " +
                           std::string{function});
}

virt_error no_domain() {
  return make_virt_error(error_code::no_domain, error_domain::test, "Domain not found");
}

virt_error no_domain_uuid(const xdr::uuid& uuid, std::string_view name) {
  return make_virt_error(error_code::no_domain, error_domain::test,
                         "Domain not found: no domain with matching uuid '" +
                           xml::format_uuid(uuid) + "' (" + std::string{name} + ")");
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

virt_error internal(std::string message) {
  return make_virt_error(error_code::internal_error, error_domain::test,
                         "internal error: " + message);
}

virt_error invalid_arg(std::string message) {
  return make_virt_error(error_code::invalid_arg, error_domain::test,
                         "invalid argument: " + message);
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

namespace {

/// Words libvirt's API names spell other than Capitalized.
std::string api_word(std::string_view w) {
  static constexpr std::pair<std::string_view, std::string_view> special[] = {
    {"XML", "XML"},   {"UUID", "UUID"},     {"ID", "ID"},         {"CPU", "CPU"},
    {"OS", "OS"},     {"NMI", "NMI"},       {"FD", "FD"},         {"URI", "URI"},
    {"MAC", "MAC"},   {"SCSI", "SCSI"},     {"WWN", "WWN"},       {"SSH", "SSH"},
    {"DHCP", "DHCP"}, {"SEV", "SEV"},       {"NWFILTER", "NWFilter"},
    {"IOTHREAD", "IOThread"},               {"FSINFO", "FSInfo"}, {"FSFREEZE", "FSFreeze"},
    {"FSTHAW", "FSThaw"},                   {"FSTRIM", "FSTrim"},
  };
  for (auto& [upper, spelled] : special) {
    if (w == upper)
      return std::string{spelled};
    // Plurals: NWFILTERS -> NWFilters.
    if (w.size() == upper.size() + 1 && w.back() == 'S' && w.substr(0, upper.size()) == upper)
      return std::string{spelled} + "s";
  }
  std::string out{w};
  for (size_t i = 1; i < out.size(); ++i)
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

/// The error domain of the public API file that declares procedure `name`.
error_domain api_domain(std::string_view name) {
  if (starts_with(name, "DOMAIN_SNAPSHOT"))
    return error_domain::domain_snapshot;
  if (starts_with(name, "DOMAIN_CHECKPOINT"))
    return error_domain::domain_checkpoint;
  if (starts_with(name, "DOMAIN"))
    return error_domain::domain;
  if (starts_with(name, "NETWORK"))
    return error_domain::network;
  if (starts_with(name, "STORAGE"))
    return error_domain::storage;
  if (starts_with(name, "INTERFACE"))
    return error_domain::interface;
  if (starts_with(name, "SECRET"))
    return error_domain::secret;
  if (starts_with(name, "NWFILTER"))
    return error_domain::nwfilter;
  if (starts_with(name, "NODE_DEVICE") || starts_with(name, "NODE_NUM_OF_DEVICES") ||
      starts_with(name, "NODE_LIST_DEVICES"))
    return error_domain::nodedev;
  if (starts_with(name, "CONNECT")) {
    if (contains(name, "SECRET"))
      return error_domain::secret;
    if (contains(name, "NWFILTER"))
      return error_domain::nwfilter;
    if (contains(name, "INTERFACE"))
      return error_domain::interface;
    if (contains(name, "NODE_DEVICE"))
      return error_domain::nodedev;
    if (contains(name, "STORAGE"))
      return error_domain::storage;
    if (contains(name, "NETWORK"))
      return error_domain::network;
    if (contains(name, "DOMAIN"))
      return error_domain::domain;
  }
  return error_domain::none;
}

} // namespace

std::string api_name(int32_t proc) {
  auto name = protocol::proc_name(proc);
  if (name.empty())
    return "procedure " + std::to_string(proc);
  std::string out = "vir";
  size_t pos = 0;
  while (pos <= name.size()) {
    auto end = name.find('_', pos);
    if (end == std::string_view::npos)
      end = name.size();
    out += api_word(name.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

virt_error unsupported_procedure(int32_t proc) {
  return make_virt_error(error_code::no_support, api_domain(protocol::proc_name(proc)),
                         "this function is not supported by the connection driver: " +
                           api_name(proc));
}

} // namespace virtactor::drivers::test::errors
