#include "protocol/api_names.hpp"

#include <cctype>
#include <utility>

#include "protocol/procedure_numbers.hpp"

namespace virtactor::protocol {

namespace {

/// Words libvirt's API names spell other than Capitalized.
std::string api_word(std::string_view w) {
  static constexpr std::pair<std::string_view, std::string_view> special[] = {
    {"XML", "XML"},   {"UUID", "UUID"},     {"ID", "ID"},         {"CPU", "CPU"},
    {"OS", "OS"},     {"NMI", "NMI"},       {"FD", "FD"},         {"URI", "URI"},
    {"MAC", "MAC"},   {"SCSI", "SCSI"},     {"WWN", "WWN"},       {"SSH", "SSH"},
    {"DHCP", "DHCP"}, {"SEV", "SEV"},       {"NWFILTER", "NWFilter"},
    {"IOTHREAD", "IOThread"},               {"FSINFO", "FSInfo"}, {"FSFREEZE", "FSFreeze"},
    {"FSTHAW", "FSThaw"},                   {"FSTRIM", "FSTrim"}, {"PM", "PM"},
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

} // namespace

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

std::string api_name(int32_t proc) {
  auto name = proc_name(proc);
  if (name.empty())
    return "procedure " + std::to_string(proc);
  // The callback-based event registrations serve the plain public API.
  constexpr std::string_view callback = "_EVENT_CALLBACK_";
  std::string plain{name};
  if (auto at = plain.find(callback); at != std::string::npos && starts_with(plain, "CONNECT_"))
    plain.replace(at, callback.size(), "_EVENT_");
  std::string out = "vir";
  std::string_view rest = plain;
  size_t pos = 0;
  while (pos <= rest.size()) {
    auto end = rest.find('_', pos);
    if (end == std::string_view::npos)
      end = rest.size();
    out += api_word(rest.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

virt_error unsupported_api_error(int32_t proc) {
  return make_virt_error(error_code::no_support, api_domain(proc_name(proc)),
                         "this function is not supported by the connection driver: " +
                           api_name(proc));
}

} // namespace virtactor::protocol
