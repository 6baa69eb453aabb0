#include "drivers/xml/domain_xml.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <initializer_list>
#include <unordered_set>

#include "drivers/xml/units.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::xml {

void domain_def::set_max_memory(uint64_t kib) {
  memory.max_kib = kib;
  if (memory.current_kib > kib)
    memory.current_kib = kib;
}

void domain_def::set_max_vcpus(uint32_t n) {
  vcpu.max = n;
  if (vcpu.current > n)
    vcpu.current = n;
}

namespace {

using names = std::initializer_list<std::string_view>;

constexpr doc_kind domain_doc{"domain", "(domain_definition)", error_domain::domain};

/// Size of libvirt's CPU bitmaps (`VIR_DOMAIN_CPUMASK_LEN`).
constexpr size_t cpumask_len = 16384;

/// The boot-time vCPU ceiling we accept (libvirt's test driver has none).
constexpr uint32_t max_vcpus_limit = 16384;

virt_error dom_error(error_code code, std::string_view msg) {
  return make_error(code, error_domain::domain, msg);
}

virt_error unsupported(std::string_view what, std::string_view value) {
  return dom_error(error_code::config_unsupported, std::string{what} + " '" + std::string{value} +
                                                       "' is not supported by virtactor");
}

template <class List> bool one_of(std::string_view v, const List& list) {
  return std::find(std::begin(list), std::end(list), v) != std::end(list);
}

bool one_of(std::string_view v, names list) {
  return one_of<names>(v, list);
}

std::string hex(uint32_t value, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x", width, value);
  return buf;
}

// --- CPU bitmaps (libvirt's virBitmapParse/virBitmapFormat)

std::optional<std::vector<bool>> parse_bitmap(std::string_view str, size_t size) {
  std::vector<bool> bits(size, false);
  size_t i = 0;
  auto skip = [&] {
    while (i < str.size() && std::isspace(static_cast<unsigned char>(str[i])))
      ++i;
  };
  auto number = [&](bool allow_sign) -> std::optional<long> {
    size_t start = i;
    if (allow_sign) {
      skip();
      if (i < str.size() && (str[i] == '+' || str[i] == '-'))
        ++i;
    }
    size_t digits = i;
    long value = 0;
    while (i < str.size() && std::isdigit(static_cast<unsigned char>(str[i]))) {
      value = value * 10 + (str[i] - '0');
      if (value > INT_MAX)
        return std::nullopt;
      ++i;
    }
    if (i == digits) {
      i = start;
      return std::nullopt;
    }
    if (allow_sign && str[digits - (digits > start ? 1 : 0)] == '-' && digits > start)
      value = -value;
    return value;
  };
  skip();
  if (i >= str.size())
    return std::nullopt;
  while (i < str.size()) {
    bool neg = false;
    if (str[i] == '^') {
      ++i;
      neg = true;
    }
    if (i >= str.size() || !std::isdigit(static_cast<unsigned char>(str[i])))
      return std::nullopt;
    auto first = number(false);
    if (!first)
      return std::nullopt;
    skip();
    if (i >= str.size() || str[i] == ',') {
      if (static_cast<size_t>(*first) >= size)
        return std::nullopt;
      bits[static_cast<size_t>(*first)] = !neg;
    } else if (str[i] == '-') {
      if (neg)
        return std::nullopt;
      ++i;
      auto last = number(true);
      if (!last || *last < *first)
        return std::nullopt;
      for (long b = *first; b <= *last; ++b) {
        if (static_cast<size_t>(b) >= size)
          return std::nullopt;
        bits[static_cast<size_t>(b)] = true;
      }
      skip();
    }
    if (i < str.size() && str[i] == ',') {
      ++i;
      skip();
    } else if (i < str.size()) {
      return std::nullopt;
    }
  }
  return bits;
}

std::string format_bitmap(const std::vector<bool>& bits) {
  std::string out;
  size_t i = 0;
  while (i < bits.size()) {
    if (!bits[i]) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i + 1 < bits.size() && bits[i + 1])
      ++i;
    if (!out.empty())
      out += ',';
    out += std::to_string(start);
    if (i != start)
      out += '-' + std::to_string(i);
    ++i;
  }
  return out;
}

// --- disk names (libvirt's virDiskNameToIndex)

int disk_name_index(std::string_view name) {
  static constexpr std::string_view prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
  std::string_view rest;
  bool found = false;
  for (auto p : prefixes) {
    if (name.starts_with(p)) {
      rest = name.substr(p.size());
      found = true;
      break;
    }
  }
  if (!found || rest.empty() || !std::islower(static_cast<unsigned char>(rest[0])))
    return -1;
  long idx = 0;
  size_t i = 0;
  for (; i < rest.size() && std::islower(static_cast<unsigned char>(rest[i])); ++i) {
    idx = (idx + (i < 1 ? 0 : 1)) * 26 + (rest[i] - 'a');
    if (idx > INT_MAX / 27)
      return -1;
  }
  for (; i < rest.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(rest[i])))
      return -1;
  return static_cast<int>(idx);
}

// --- addresses

result<std::optional<device_address>> parse_address(pugi::xml_node dev, bool extended) {
  auto node = dev.child("address");
  if (!node)
    return std::optional<device_address>{};
  auto type = attr_of(node, "type");
  if (!type)
    return dom_error(error_code::internal_error, "No type specified for device address");
  if (!one_of(*type, {"pci", "drive", "virtio-serial", "ccid", "usb", "spapr-vio", "virtio-s390",
                      "ccw", "virtio-mmio", "isa", "dimm", "unassigned"}))
    return dom_error(error_code::config_unsupported, "unknown address type '" + *type + "'");
  device_address addr;
  addr.type = *type;
  if (*type == "pci") {
    VA_XML_TRY(domain, prop_uint(node, "domain", 0));
    VA_XML_TRY(bus, prop_uint(node, "bus", 0));
    VA_XML_TRY(slot, prop_uint(node, "slot", 0));
    VA_XML_TRY(function, prop_uint(node, "function", 0));
    VA_XML_TRY(multi, prop_bool(node, "multifunction", true));
    addr.domain = domain.value_or(0);
    addr.bus = bus.value_or(0);
    addr.slot = slot.value_or(0);
    addr.function = function.value_or(0);
    addr.multifunction = multi;
    if (addr.domain || addr.bus || addr.slot) {
      auto bad = [](std::string what) {
        return make_error(error_code::xml_error, error_domain::none, "Invalid PCI address " + what);
      };
      if (addr.bus > 0xff)
        return bad("bus='" + hex(addr.bus, 0) + "', must be <= 0xFF");
      if (addr.slot > 0x1f)
        return bad("slot='" + hex(addr.slot, 0) + "', must be <= 0x1F");
      if (addr.function > 7)
        return bad("function=" + hex(addr.function, 0) + ", must be <= 7");
    }
  } else if (*type == "drive") {
    VA_XML_TRY(controller, prop_uint(node, "controller", 10));
    VA_XML_TRY(bus, prop_uint(node, "bus", 10));
    VA_XML_TRY(target, prop_uint(node, "target", 10));
    VA_XML_TRY(unit, prop_uint(node, "unit", 10));
    addr.controller = controller.value_or(0);
    addr.bus = bus.value_or(0);
    addr.target = target.value_or(0);
    addr.unit = unit.value_or(0);
  } else if (*type == "usb" && extended) {
    VA_XML_TRY(bus, prop_uint(node, "bus", 10));
    addr.bus = bus.value_or(0);
    auto port = attr_of(node, "port").value_or("");
    // libvirt's port path: up to four dot-separated numbers.
    size_t parts = 1;
    for (char c : port)
      parts += c == '.';
    if (!port.empty() &&
        (port.find_first_not_of("0123456789.") != std::string::npos || port.front() == '.' ||
         port.back() == '.' || port.find("..") != std::string::npos || parts > 4))
      return dom_error(error_code::internal_error, "Cannot parse <address> 'port' attribute");
    addr.port = port;
  } else {
    // Outside the subset: dropped (see docs/xml-subset.md).
    return std::optional<device_address>{};
  }
  return std::optional<device_address>{addr};
}

std::string format_address(const device_address& a) {
  std::string out = "<address" + attr("type", a.type);
  if (a.type == "pci") {
    if (a.domain || a.bus || a.slot)
      out += attr("domain", hex(a.domain, 4)) + attr("bus", hex(a.bus, 2)) +
             attr("slot", hex(a.slot, 2)) + attr("function", hex(a.function, 0));
    if (a.multifunction)
      out += attr("multifunction", *a.multifunction ? "on" : "off");
  } else if (a.type == "usb") {
    out += attr("bus", std::to_string(a.bus));
    if (!a.port.empty())
      out += attr("port", a.port);
  } else {
    out += attr("controller", std::to_string(a.controller)) + attr("bus", std::to_string(a.bus)) +
           attr("target", std::to_string(a.target)) + attr("unit", std::to_string(a.unit));
  }
  return out + "/>";
}

// --- insertion keeping libvirt's grouping: after the last of the same kind,
// before the first of the same kind that sorts after.

template <class T, class SameKind, class After>
void insert_grouped(std::vector<T>& list, T item, SameKind same, After after) {
  long insert_at = -1;
  for (long idx = static_cast<long>(list.size()) - 1; idx >= 0; --idx) {
    const auto& cur = list[static_cast<size_t>(idx)];
    if (!same(cur, item))
      continue;
    if (after(cur, item))
      insert_at = idx;
    else if (insert_at == -1)
      insert_at = idx + 1;
  }
  if (insert_at < 0)
    list.push_back(std::move(item));
  else
    list.insert(list.begin() + insert_at, std::move(item));
}

void maybe_add_controller(std::vector<controller_def>& list, const std::string& type,
                          uint32_t index) {
  for (const auto& c : list)
    if (c.type == type && c.index == index)
      return;
  controller_def c;
  c.type = type;
  c.index = index;
  list.push_back(std::move(c));
}

/// A device's `<boot order='N'/>`; 0 when absent.
result<uint32_t> parse_boot_order(pugi::xml_node dev) {
  auto boot = dev.child("boot");
  if (!boot)
    return 0u;
  auto text = attr_of(boot, "order");
  if (!text)
    return dom_error(error_code::internal_error, "missing boot order attribute");
  auto n = to_uint(*text, 10);
  if (!n || *n == 0)
    return dom_error(error_code::internal_error,
                     "incorrect boot order '" + *text + "', expecting positive integer");
  return *n;
}

// --- the parser

class domain_parser {
public:
  domain_parser(pugi::xml_node root, const domain_parse& opts) : root_(root), opts_(opts) {}

  result<domain_def> run() {
    VA_XML_CHECK(parse_ids());
    VA_XML_CHECK(parse_caps());
    VA_XML_CHECK(parse_metadata());
    VA_XML_CHECK(parse_memory());
    VA_XML_CHECK(parse_vcpus());
    VA_XML_CHECK(parse_cpu());
    if (def_.vcpu.max == 0)
      return dom_error(error_code::internal_error, "CPU IDs in <numa> exceed the <vcpu> count");
    VA_XML_CHECK(parse_features());
    VA_XML_CHECK(parse_lifecycle());
    VA_XML_CHECK(parse_clock());
    VA_XML_CHECK(parse_boot());
    VA_XML_CHECK(parse_devices());
    VA_XML_CHECK(post_parse());
    return std::move(def_);
  }

private:
  result<void> parse_ids();
  result<void> parse_caps();
  result<void> parse_metadata();
  result<std::optional<uint64_t>> parse_memory_element(const char* name);
  result<void> parse_memory();
  result<void> parse_vcpus();
  result<void> parse_cpu();
  result<void> parse_features();
  result<void> parse_lifecycle();
  result<void> parse_clock();
  result<void> parse_boot();
  result<void> parse_devices();
  result<disk_def> parse_disk(pugi::xml_node node);
  result<controller_def> parse_controller(pugi::xml_node node, int32_t& index);
  result<interface_def> parse_interface(pugi::xml_node node);
  result<chardev_def> parse_chardev(pugi::xml_node node, bool console);
  result<input_def> parse_input(pugi::xml_node node);
  result<graphics_def> parse_graphics(pugi::xml_node node);
  result<video_def> parse_video(pugi::xml_node node);
  result<memballoon_def> parse_memballoon(pugi::xml_node node);
  result<void> parse_extended_devices(pugi::xml_node devices);
  result<void> check_boot_orders() const;
  result<void> post_parse();
  result<void> post_parse_memory();
  result<void> reject_duplicate_controllers() const;
  void default_input_buses();
  std::string default_video_model() const;
  uint32_t default_video_ram(const std::string& model) const;
  void fill_video_defaults(video_def& v) const;
  void add_implicit_video();
  result<void> post_parse_disks();
  void add_implicit_controllers();
  result<void> validate_disks() const;
  result<void> validate_inputs() const;
  result<void> validate_disk_uniqueness() const;
  result<void> post_parse_chardevs();

  bool hvm() const { return def_.os.type == "hvm"; }

  pugi::xml_node root_;
  const domain_parse& opts_;
  domain_def def_;
};

result<void> domain_parser::parse_ids() {
  auto name = child_text(root_, "name");
  if (!name)
    return make_virt_error(error_code::no_name, error_domain::domain, "missing name information");
  if (name->find('\n') != std::string::npos)
    return make_virt_error(error_code::xml_detail, error_domain::xml, "invalid char in name: \n");
  def_.name = *name;
  VA_XML_TRY(uuid, uuid_element(root_, opts_.uuid_if_absent,
                                dom_error(error_code::internal_error, "malformed uuid element")));
  def_.uuid = uuid;
  return {};
}

result<void> domain_parser::parse_caps() {
  auto type = attr_of(root_, "type");
  if (!type)
    return dom_error(error_code::internal_error, "missing domain type attribute");
  if (!one_of(*type, {"none", "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test",
                      "vmware", "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz"}))
    return dom_error(error_code::config_unsupported, "invalid domain type " + *type);
  def_.type = *type;
  auto os = root_.child("os");
  auto os_type = child_text(os, "type");
  if (!os_type)
    return dom_error(error_code::xml_error, "an os <type> must be specified");
  if (!one_of(*os_type, {"hvm", "xen", "linux", "exe", "uml", "xenpvh"}))
    return dom_error(error_code::config_unsupported, "unknown OS type '" + *os_type + "'");
  def_.os.type = *os_type;
  auto type_node = os.child("type");
  auto arch = attr_of(type_node, "arch");
  if (arch && !arch->empty()) {
    static constexpr std::string_view archs[] = {
        "i686",   "x86_64",   "aarch64",  "alpha",      "armv6l",       "armv7l", "armv7b",
        "cris",   "lm32",     "m68k",     "microblaze", "microblazeel", "mips",   "mipsel",
        "mips64", "mips64el", "openrisc", "parisc",     "parisc64",     "ppc",    "ppcle",
        "ppc64",  "ppc64le",  "ppcemb",   "riscv32",    "riscv64",      "s390",   "s390x",
        "sh4",    "sh4eb",    "sparc",    "sparc64",    "unicore32",    "xtensa", "xtensaeb"};
    if (!one_of(*arch, archs))
      return dom_error(error_code::config_unsupported, "Unknown architecture " + *arch);
    def_.os.arch = *arch;
  } else if (!opts_.default_arch.empty()) {
    def_.os.arch = opts_.default_arch;
  } else {
    return dom_error(error_code::config_unsupported,
                     "No guest options available for the default architecture");
  }
  if (auto machine = attr_of(type_node, "machine"); machine && !machine->empty())
    def_.os.machine = *machine;
  return {};
}

result<void> domain_parser::parse_metadata() {
  if (auto title = child_text(root_, "title")) {
    if (title->find('\n') != std::string::npos)
      return dom_error(error_code::xml_error, "Domain title can't contain newlines");
    def_.title = *title;
  }
  if (auto desc = child_text(root_, "description"))
    def_.description = *desc;
  return {};
}

result<std::optional<uint64_t>> domain_parser::parse_memory_element(const char* name) {
  auto text = child_text(root_, name);
  if (!text)
    return std::optional<uint64_t>{};
  auto value = to_ull(*text);
  if (!value)
    return make_error(error_code::xml_error, error_domain::xml,
                      "Invalid value '" + *text + "' for element or attribute './" + name + "[1]'");
  auto unit = attr_of(root_.child(name), "unit").value_or("");
  VA_XML_TRY(bytes, scale_value(*value, unit, 1024, LLONG_MAX));
  return std::optional<uint64_t>{bytes / 1024 + (bytes % 1024 ? 1 : 0)};
}

result<void> domain_parser::parse_memory() {
  VA_XML_TRY(total, parse_memory_element("memory"));
  VA_XML_TRY(hotplug, parse_memory_element("maxMemory"));
  uint32_t slots = 0;
  if (auto text = attr_of(root_.child("maxMemory"), "slots"); text && !text->empty()) {
    auto n = to_uint(*text, 10);
    if (!n)
      return dom_error(error_code::xml_error, "Failed to parse memory slot count");
    slots = *n;
  }
  if (hotplug.value_or(0) != 0)
    def_.memory.hotplug_max_kib = *hotplug;
  def_.memory.hotplug_slots = slots;
  VA_XML_TRY(current, parse_memory_element("currentMemory"));
  def_.memory.max_kib = total.value_or(0);
  def_.memory.current_kib = current.value_or(0);
  return {};
}

result<void> domain_parser::parse_vcpus() {
  auto node = root_.child("vcpu");
  if (!node)
    return {};
  auto text = text_of(node);
  auto max = to_uint(text, 10);
  if (!max)
    return dom_error(error_code::xml_error, "maximum vcpus count must be an integer");
  def_.vcpu.max = *max;
  VA_XML_TRY(current, prop_uint(node, "current", 10));
  def_.vcpu.current = current.value_or(*max);
  if (def_.vcpu.current > def_.vcpu.max)
    return dom_error(error_code::config_unsupported,
                     "maximum vCPU count must not be less than current vCPU count");
  if (def_.vcpu.max > max_vcpus_limit)
    return dom_error(error_code::config_unsupported,
                     "maximum vCPU count " + std::to_string(def_.vcpu.max) +
                         " exceeds the supported limit " + std::to_string(max_vcpus_limit));
  VA_XML_TRY(placement, prop_enum(node, "placement", {"static", "auto"}));
  def_.vcpu.placement = placement.value_or("static");
  if (def_.vcpu.placement == "static") {
    if (auto cpuset = attr_of(node, "cpuset")) {
      auto bits = parse_bitmap(*cpuset, cpumask_len);
      if (!bits)
        return make_error(error_code::invalid_arg, error_domain::none,
                          "Failed to parse bitmap '" + *cpuset + "'");
      auto text_form = format_bitmap(*bits);
      if (text_form.empty())
        return dom_error(error_code::config_unsupported, "Invalid value of 'cpuset': " + *cpuset);
      def_.vcpu.cpuset = text_form;
    }
  }
  return {};
}

result<void> domain_parser::parse_cpu() {
  auto node = root_.child("cpu");
  if (!node)
    return {};
  domain_cpu cpu;
  auto mode = attr_of(node, "mode");
  if (mode) {
    if (!one_of(*mode, {"custom", "host-model", "host-passthrough", "maximum"}))
      return make_error(error_code::config_unsupported, error_domain::cpu,
                        "Invalid mode attribute '" + *mode + "'");
    cpu.mode = *mode;
  } else {
    cpu.mode = "custom";
  }
  VA_XML_TRY(match, prop_enum(node, "match", {"minimum", "exact", "strict"}));
  VA_XML_TRY(check, prop_enum(node, "check", {"none", "partial", "full"}));
  VA_XML_TRY(migratable, prop_enum(node, "migratable", {"on", "off"}));
  cpu.check = check.value_or("");
  auto model = node.child("model");
  if (cpu.mode == "custom") {
    auto name = child_text(node, "model");
    if (!name)
      return {}; // libvirt prints nothing for a custom CPU without a model
    VA_XML_TRY(fallback, prop_enum(model, "fallback", {"allow", "forbid"}));
    cpu.model = *name;
    cpu.model_fallback = fallback.value_or("allow");
    cpu.match = match.value_or("exact");
  } else if (cpu.mode == "host-passthrough" || cpu.mode == "maximum") {
    cpu.migratable = migratable.value_or("");
  }
  def_.cpu = cpu;
  return {};
}

result<void> domain_parser::parse_features() {
  static constexpr std::string_view known[] = {
      "acpi",   "apic",       "pae",          "hap", "viridian",  "privnet", "hyperv",
      "kvm",    "pvspinlock", "capabilities", "pmu", "vmport",    "gic",     "smm",
      "ioapic", "hpt",        "vmcoreinfo",   "htm", "nested-hv", "msrs",    "ccf-assist",
      "xen",    "cfpc",       "sbbc",         "ibs", "tcg"};
  for (auto child : root_.child("features").children()) {
    if (child.type() != pugi::node_element)
      continue;
    std::string_view name = child.name();
    if (!one_of(name, known))
      return dom_error(error_code::config_unsupported,
                       "unexpected feature '" + std::string{name} + "'");
    if (name == "acpi") {
      def_.features.acpi = true;
    } else if (name == "apic") {
      VA_XML_TRY(eoi, prop_enum(child, "eoi", {"on", "off"}));
      def_.features.apic = true;
      def_.features.apic_eoi = eoi.value_or("");
    } else if (name == "pae") {
      def_.features.pae = true;
    }
    // Other features are outside the subset and dropped.
  }
  return {};
}

result<void> domain_parser::parse_lifecycle() {
  auto action = [&](const char* element, std::string& out) -> result<void> {
    auto text = child_text(root_, element);
    if (!text)
      return {};
    if (!one_of(*text, {"destroy", "restart", "rename-restart", "preserve", "coredump-destroy",
                        "coredump-restart"}))
      return dom_error(error_code::config_unsupported,
                       std::string{"unknown "} + element + " action: " + *text);
    out = *text;
    return {};
  };
  VA_XML_CHECK(action("on_reboot", def_.on_reboot));
  VA_XML_CHECK(action("on_poweroff", def_.on_poweroff));
  VA_XML_CHECK(action("on_crash", def_.on_crash));
  return {};
}

result<void> domain_parser::parse_clock() {
  auto node = root_.child("clock");
  if (!node)
    return {};
  auto offset = attr_of(node, "offset").value_or("utc");
  if (!one_of(offset, {"utc", "localtime", "timezone", "variable", "absolute"}))
    return dom_error(error_code::config_unsupported, "unknown clock offset '" + offset + "'");
  if (offset == "absolute")
    return unsupported("clock offset", offset);
  def_.clock_offset = offset;
  auto adjustment = attr_of(node, "adjustment");
  if (offset == "utc" || offset == "localtime") {
    if (adjustment) {
      if (*adjustment == "reset") {
        def_.clock_adjustment = "reset";
      } else if (auto n = to_ll(*adjustment)) {
        // A fixed adjustment turns the clock into a variable one.
        def_.clock_basis = offset;
        def_.clock_offset = "variable";
        def_.clock_adjustment = std::to_string(*n);
      } else {
        return dom_error(error_code::xml_error, "unknown clock adjustment '" + *adjustment + "'");
      }
    }
  } else if (offset == "timezone") {
    auto tz = attr_of(node, "timezone");
    if (!tz)
      return dom_error(error_code::internal_error,
                       "missing 'timezone' attribute for clock with offset='timezone'");
    def_.clock_timezone = *tz;
  } else if (offset == "variable") {
    int64_t n = 0;
    if (adjustment)
      n = to_ll(*adjustment).value_or(0);
    def_.clock_adjustment = std::to_string(n);
    auto basis = attr_of(node, "basis").value_or("utc");
    if (!one_of(basis, {"utc", "localtime"}))
      return dom_error(error_code::config_unsupported, "unknown clock basis '" + basis + "'");
    def_.clock_basis = basis;
  }
  return {};
}

result<void> domain_parser::parse_boot() {
  auto os = root_.child("os");
  if (auto kernel = child_text(os, "kernel"))
    def_.os.kernel = *kernel;
  if (auto initrd = child_text(os, "initrd"))
    def_.os.initrd = *initrd;
  if (auto cmdline = child_text(os, "cmdline"))
    def_.os.cmdline = *cmdline;
  if (def_.os.type == "exe")
    def_.os.init = child_text(os, "init");
  if (!hvm())
    return {};
  for (auto boot : os.children("boot")) {
    // libvirt keeps the first four.
    if (def_.os.boot_devs.size() == 4)
      break;
    VA_XML_TRY(dev, prop_enum(boot, "dev", {"fd", "cdrom", "hd", "network"}, true));
    def_.os.boot_devs.push_back(*dev);
  }
  if (auto menu = os.child("bootmenu")) {
    VA_XML_TRY(enable, prop_bool(menu, "enable", false));
    def_.os.bootmenu = enable;
  }
  return {};
}

result<disk_def> domain_parser::parse_disk(pugi::xml_node node) {
  disk_def disk;
  VA_XML_TRY(type, prop_enum(node, "type",
                             {"file", "block", "dir", "network", "volume", "nvme", "vhostuser",
                              "vhostvdpa"}));
  disk.type = type.value_or("file");
  VA_XML_TRY(device, prop_enum(node, "device", {"disk", "cdrom", "floppy", "lun"}));
  disk.device = device.value_or("disk");
  if (disk.type != "file" && disk.type != "block")
    return unsupported("disk type", disk.type);
  if (disk.device == "lun")
    return unsupported("disk device", disk.device);
  if (auto source = node.child("source"))
    disk.source = attr_of(source, disk.type == "file" ? "file" : "dev").value_or("");
  auto target = node.child("target");
  auto dev = attr_of(target, "dev");
  VA_XML_TRY(bus, prop_enum(target, "bus",
                            {"ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd"}));
  if (auto driver = node.child("driver")) {
    disk.driver_name = attr_of(driver, "name").value_or("");
    disk.driver_type = attr_of(driver, "type").value_or("");
    VA_XML_TRY(cache,
               prop_enum(driver, "cache",
                         {"default", "none", "writethrough", "writeback", "directsync", "unsafe"}));
    disk.driver_cache = cache.value_or("");
    if (disk.driver_cache == "default")
      disk.driver_cache.clear();
  }
  disk.readonly = static_cast<bool>(node.child("readonly"));
  disk.shareable = static_cast<bool>(node.child("shareable"));
  if (opts_.extended_subset) {
    VA_XML_TRY(order, parse_boot_order(node));
    disk.boot_order = order;
  }
  VA_XML_TRY(address, parse_address(node, opts_.extended_subset));
  disk.address = address;
  // A missing target is reported when the disk is validated.
  disk.target_dev = dev.value_or("");
  // An absent bus stays empty until post-parse: libvirt orders disks first.
  disk.target_bus = bus.value_or("");
  if (disk.device == "cdrom")
    disk.readonly = true;
  return disk;
}

result<controller_def> domain_parser::parse_controller(pugi::xml_node node, int32_t& index) {
  controller_def c;
  VA_XML_TRY(type, prop_enum(node, "type",
                             {"ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb", "pci",
                              "xenbus", "isa"}));
  c.type = type.value_or("ide");
  VA_XML_TRY(idx, prop_int(node, "index"));
  index = idx.value_or(-1);
  if (index < -1)
    return make_error(error_code::xml_error, error_domain::xml,
                      "Invalid value for attribute 'index' in element 'controller': '" +
                          std::to_string(index) + "'. Expected integer value");
  if (auto model = attr_of(node, "model")) {
    std::vector<std::string_view> models;
    if (c.type == "scsi")
      models = {
          "auto",     "buslogic",    "lsilogic",   "lsisas1068",          "vmpvscsi",
          "ibmvscsi", "virtio-scsi", "lsisas1078", "virtio-transitional", "virtio-non-transitional",
          "ncr53c90", "am53c974",    "dc390"};
    else if (c.type == "usb")
      models = {"piix3-uhci", "piix4-uhci", "ehci",           "ich9-ehci1", "ich9-uhci1",
                "ich9-uhci2", "ich9-uhci3", "vt82c686b-uhci", "pci-ohci",   "nec-xhci",
                "qusb1",      "qusb2",      "qemu-xhci",      "none"};
    else if (c.type == "ide")
      models = {"piix3", "piix4", "ich6"};
    else if (c.type == "virtio-serial")
      models = {"virtio", "virtio-transitional", "virtio-non-transitional"};
    else if (c.type == "pci" && opts_.extended_subset)
      models = {"pci-root",
                "pcie-root",
                "pci-bridge",
                "dmi-to-pci-bridge",
                "pcie-root-port",
                "pcie-switch-upstream-port",
                "pcie-switch-downstream-port",
                "pci-expander-bus",
                "pcie-expander-bus",
                "pcie-to-pci-bridge"};
    else if (c.type == "pci")
      models = {"pci-root", "pcie-root"};
    else if (c.type == "isa")
      models = {};
    if (!one_of(*model, models))
      return dom_error(error_code::config_unsupported, "Unknown model type '" + *model + "'");
    // USB2 companions get a <master> port and their own ordering: not modelled.
    if (model->starts_with("ich9-uhci"))
      return unsupported("usb controller model", *model);
    c.model = *model;
  }
  if (opts_.extended_subset && c.type == "pci") {
    c.model_name = attr_of(node.child("model"), "name").value_or("");
    auto target = node.child("target");
    VA_XML_TRY(chassis, prop_uint(target, "chassis", 0));
    VA_XML_TRY(port, prop_uint(target, "port", 0));
    c.target_chassis = chassis;
    c.target_port = port;
  }
  VA_XML_TRY(address, parse_address(node, opts_.extended_subset));
  c.address = address;
  return c;
}

result<interface_def> domain_parser::parse_interface(pugi::xml_node node) {
  interface_def net;
  VA_XML_TRY(type,
             prop_enum(node, "type",
                       {"user", "ethernet", "vhostuser", "server", "client", "mcast", "network",
                        "bridge", "internal", "direct", "hostdev", "udp", "vdpa", "null", "vds"}));
  net.type = type.value_or("user");
  if (!one_of(net.type, {"network", "bridge", "user"}))
    return unsupported("interface type", net.type);
  if (auto mac = attr_of(node.child("mac"), "address")) {
    auto canonical = parse_mac(*mac);
    if (!canonical)
      return dom_error(error_code::xml_error, "unable to parse mac address '" + *mac + "'");
    if (mac_is_multicast(*canonical))
      return dom_error(error_code::xml_error,
                       "expected unicast mac address, found multicast '" + *mac + "'");
    net.mac = *canonical;
  } else {
    net.mac = random_mac();
  }
  if (net.type != "user") {
    auto source = node.child("source");
    if (!source)
      return dom_error(error_code::xml_error,
                       "interface type='" + net.type + "' requires a 'source' element");
    VA_XML_TRY(src, prop_string(source, net.type == "network" ? "network" : "bridge", true));
    net.source = *src;
  }
  if (auto dev = attr_of(node.child("target"), "dev"); dev && !dev->empty()) {
    // Names libvirt generated itself are dropped from an inactive definition.
    if (!dev->starts_with("vnet") && !dev->starts_with("macvtap") && !dev->starts_with("macvlan"))
      net.target_dev = *dev;
  }
  if (auto model = attr_of(node.child("model"), "type"); model && !model->empty()) {
    static constexpr std::string_view allowed =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    if (model->find_first_not_of(allowed) != std::string::npos)
      return dom_error(error_code::invalid_arg, "Model name contains invalid characters");
    static constexpr std::string_view known[] = {"netfront",
                                                 "rtl8139",
                                                 "virtio",
                                                 "e1000",
                                                 "e1000e",
                                                 "virtio-transitional",
                                                 "virtio-non-transitional",
                                                 "usb-net",
                                                 "spapr-vlan",
                                                 "lan9118",
                                                 "scm91c111",
                                                 "vlance",
                                                 "vmxnet",
                                                 "vmxnet2",
                                                 "vmxnet3",
                                                 "Am79C970A",
                                                 "Am79C973",
                                                 "82540EM",
                                                 "82545EM",
                                                 "82543GC"};
    net.model = *model;
    for (auto k : known) {
      if (k.size() == model->size() &&
          std::equal(k.begin(), k.end(), model->begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        net.model = std::string{k};
        break;
      }
    }
  }
  if (opts_.extended_subset) {
    VA_XML_TRY(order, parse_boot_order(node));
    net.boot_order = order;
  }
  VA_XML_TRY(address, parse_address(node, opts_.extended_subset));
  net.address = address;
  return net;
}

result<chardev_def> domain_parser::parse_chardev(pugi::xml_node node, bool console) {
  chardev_def chr;
  auto type = attr_of(node, "type").value_or("pty");
  if (!one_of(type, {"null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix",
                     "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus"}))
    return dom_error(error_code::config_unsupported,
                     "unknown type presented to host for character device: " + type);
  bool host_type = opts_.extended_subset && (type == "unix" || type == "file");
  if (type != "pty" && !host_type)
    return unsupported("character device type", type);
  chr.type = type;
  if (host_type) {
    // libvirt takes the first <source> that has the attributes it wants.
    auto source = node.child("source");
    chr.source_path = attr_of(source, "path").value_or("");
    if (chr.source_path.empty())
      return dom_error(error_code::xml_error, "Missing source path attribute for char device");
    if (type == "unix") {
      VA_XML_TRY(mode, prop_enum(source, "mode", {"bind", "connect"}));
      chr.source_mode = mode.value_or("connect");
    }
  }
  auto target = node.child("target");
  if (opts_.extended_subset && !console)
    chr.target_model = attr_of(target.child("model"), "name").value_or("");
  if (auto ttype = attr_of(target, "type")) {
    bool known =
        console
            ? one_of(*ttype, {"serial", "xen", "uml", "virtio", "lxc", "openvz", "sclp", "sclplm"})
            : one_of(*ttype, {"isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial",
                              "system-serial", "sclp-serial", "isa-debug"});
    if (!known)
      return dom_error(error_code::config_unsupported,
                       "unknown target type '" + *ttype + "' specified for character device");
    if (console && !one_of(*ttype, {"serial", "virtio"}))
      return unsupported("console target type", *ttype);
    chr.target_type = *ttype;
  }
  chr.target_port = -1;
  if (auto port = attr_of(target, "port")) {
    auto n = to_int(*port);
    if (!n || *n < 0)
      return dom_error(error_code::xml_error, "Invalid port number: " + *port);
    chr.target_port = *n;
  }
  // A pty's path is live state; an inactive definition does not keep it.
  return chr;
}

result<input_def> domain_parser::parse_input(pugi::xml_node node) {
  input_def in;
  auto type = attr_of(node, "type");
  if (!type)
    return dom_error(error_code::internal_error, "missing input device type");
  if (!one_of(*type, {"mouse", "tablet", "keyboard", "passthrough", "evdev"}))
    return dom_error(error_code::config_unsupported, "unknown input device type '" + *type + "'");
  auto bus = attr_of(node, "bus");
  if (bus && !one_of(*bus, {"ps2", "usb", "xen", "parallels", "none", "virtio"}))
    return dom_error(error_code::config_unsupported, "unknown input bus type '" + *bus + "'");
  if (*type == "passthrough" || *type == "evdev")
    return unsupported("input type", *type);
  in.type = *type;
  // The bus is defaulted and checked against the OS type after parsing.
  in.bus = bus.value_or("");
  VA_XML_TRY(address, parse_address(node, opts_.extended_subset));
  in.address = address;
  return in;
}

result<graphics_def> domain_parser::parse_graphics(pugi::xml_node node) {
  graphics_def g;
  VA_XML_TRY(type,
             prop_enum(node, "type",
                       {"sdl", "vnc", "rdp", "desktop", "spice", "egl-headless", "dbus"}, true));
  if (*type != "vnc" && *type != "spice")
    return unsupported("graphics type", *type);
  g.type = *type;
  g.autoport = false;
  g.port = 0;
  auto autoport = attr_of(node, "autoport");
  if (g.type == "vnc") {
    auto port = attr_of(node, "port");
    if (port) {
      auto n = to_int(*port);
      if (!n)
        return dom_error(error_code::internal_error, "cannot parse vnc port " + *port);
      g.port = *n;
    }
    if (!port || g.port == -1) {
      g.port = 0;
      g.autoport = true;
    }
    if (autoport && *autoport == "yes") {
      g.port = 0;
      g.autoport = true;
    } else if (autoport && *autoport == "no") {
      g.autoport = false;
    }
  } else {
    VA_XML_TRY(port, prop_int(node, "port"));
    VA_XML_TRY(tls_port, prop_int(node, "tlsPort"));
    g.port = port.value_or(0);
    g.tls_port = tls_port.value_or(0);
    if (autoport && *autoport == "yes") {
      g.port = 0;
      g.tls_port = 0;
      g.autoport = true;
    } else if (autoport && *autoport == "no") {
      g.autoport = false;
    }
  }
  auto listen_attr = attr_of(node, "listen").value_or("");
  if (auto listen = node.child("listen")) {
    VA_XML_TRY(ltype, prop_enum(listen, "type", {"address", "network", "socket", "none"}, true));
    if (*ltype == "network" || *ltype == "socket")
      return unsupported("graphics listen type", *ltype);
    g.listen_type = *ltype;
    if (*ltype == "address") {
      auto address = attr_of(listen, "address").value_or("");
      if (!listen_attr.empty() && !address.empty() && address != listen_attr)
        return dom_error(error_code::config_unsupported,
                         "graphics 'listen' attribute '" + listen_attr +
                             "' must match 'address' attribute of first listen element (found '" +
                             address + "')");
      g.listen = address.empty() ? listen_attr : address;
    }
  } else if (!listen_attr.empty()) {
    g.listen_type = "address";
    g.listen = listen_attr;
  } else if (g.type == "spice" && g.port == 0 && g.tls_port == 0 && !g.autoport) {
    g.listen_type = "none";
  } else {
    g.listen_type = "address";
  }
  g.keymap = attr_of(node, "keymap").value_or("");
  g.passwd = attr_of(node, "passwd").value_or("");
  return g;
}

result<video_def> domain_parser::parse_video(pugi::xml_node node) {
  video_def v;
  auto model = node.child("model");
  if (auto type = attr_of(model, "type")) {
    if (!one_of(*type, {"vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels", "virtio",
                        "gop", "none", "bochs", "ramfb"}))
      return dom_error(error_code::config_unsupported, "unknown video model '" + *type + "'");
    v.model = *type;
  }
  auto number = [&](const char* name, error_code code, uint32_t& out) -> result<bool> {
    auto text = attr_of(model, name);
    if (!text)
      return false;
    auto n = to_uint(*text, 10);
    if (!n)
      return dom_error(code, std::string{"cannot parse video "} + name + " '" + *text + "'");
    out = *n;
    return true;
  };
  VA_XML_TRY(has_vram, number("vram", error_code::xml_error, v.vram));
  VA_XML_TRY(has_ram, number("ram", error_code::xml_error, v.ram));
  VA_XML_TRY(has_vgamem, number("vgamem", error_code::xml_error, v.vgamem));
  VA_XML_TRY(has_heads, number("heads", error_code::internal_error, v.heads));
  (void)has_vram;
  (void)has_ram;
  (void)has_vgamem;
  if (!has_heads)
    v.heads = 1;
  v.primary = attr_of(model, "primary").value_or("") == "yes";
  VA_XML_TRY(address, parse_address(node, opts_.extended_subset));
  v.address = address;
  return v;
}

result<memballoon_def> domain_parser::parse_memballoon(pugi::xml_node node) {
  memballoon_def m;
  VA_XML_TRY(model,
             prop_enum(node, "model",
                       {"virtio", "xen", "none", "virtio-transitional", "virtio-non-transitional"},
                       true));
  m.model = *model;
  VA_XML_TRY(address, parse_address(node, opts_.extended_subset));
  m.address = address;
  return m;
}

result<void> domain_parser::parse_devices() {
  auto devices = root_.child("devices");
  auto& d = def_.devices;
  if (auto emulator = child_text(devices, "emulator"))
    d.emulator = *emulator;
  for (auto node : devices.children("disk")) {
    VA_XML_TRY(disk, parse_disk(node));
    int idx = disk_name_index(disk.target_dev);
    insert_grouped(
        d.disks, std::move(disk),
        [](const disk_def& a, const disk_def& b) {
          return a.target_bus == b.target_bus && !a.target_dev.empty() && !b.target_dev.empty();
        },
        [idx](const disk_def& cur, const disk_def&) {
          return disk_name_index(cur.target_dev) > idx;
        });
  }
  // Controllers without an index go after the others of their type and take
  // the lowest free index once all are read.
  std::vector<bool> unindexed;
  for (auto node : devices.children("controller")) {
    int32_t index = -1;
    VA_XML_TRY(c, parse_controller(node, index));
    if (index >= 0)
      c.index = static_cast<uint32_t>(index);
    std::optional<size_t> at;
    for (size_t i = d.controllers.size(); i-- > 0;) {
      const auto& cur = d.controllers[i];
      if (cur.type != c.type)
        continue;
      if (index < 0) {
        at = i + 1;
        break;
      }
      if (!unindexed[i] && cur.index > c.index)
        at = i;
      else if (!at)
        at = i + 1;
    }
    at = at.value_or(d.controllers.size());
    d.controllers.insert(d.controllers.begin() + static_cast<long>(*at), std::move(c));
    unindexed.insert(unindexed.begin() + static_cast<long>(*at), index < 0);
  }
  for (size_t i = 0; i < d.controllers.size(); ++i) {
    if (!unindexed[i])
      continue;
    auto& c = d.controllers[i];
    uint32_t free_index = 0;
    auto taken = [&](uint32_t n) {
      for (size_t j = 0; j < d.controllers.size(); ++j)
        if (j != i && !unindexed[j] && d.controllers[j].type == c.type &&
            d.controllers[j].index == n)
          return true;
      return false;
    };
    while (taken(free_index))
      ++free_index;
    c.index = free_index;
    unindexed[i] = false;
  }
  for (auto node : devices.children("interface")) {
    VA_XML_TRY(net, parse_interface(node));
    d.interfaces.push_back(std::move(net));
  }
  for (auto node : devices.children("serial")) {
    VA_XML_TRY(chr, parse_chardev(node, false));
    d.serials.push_back(std::move(chr));
  }
  // Serials without a port take one above every port given, in order.
  for (auto& chr : d.serials) {
    if (chr.target_port != -1)
      continue;
    int32_t max_port = -1;
    for (const auto& other : d.serials)
      max_port = std::max(max_port, other.target_port);
    chr.target_port = max_port + 1;
  }
  for (auto node : devices.children("console")) {
    VA_XML_TRY(chr, parse_chardev(node, true));
    chr.target_port = static_cast<int32_t>(d.consoles.size());
    d.consoles.push_back(std::move(chr));
  }
  for (auto node : devices.children("input")) {
    VA_XML_TRY(in, parse_input(node));
    d.inputs.push_back(std::move(in));
  }
  for (auto node : devices.children("graphics")) {
    VA_XML_TRY(g, parse_graphics(node));
    d.graphics.push_back(std::move(g));
  }
  for (auto node : devices.children("video")) {
    VA_XML_TRY(v, parse_video(node));
    if (v.model.empty())
      v.model = default_video_model();
    // A primary video goes first, as libvirt's parser puts it.
    if (v.primary)
      d.videos.insert(d.videos.begin(), std::move(v));
    else
      d.videos.push_back(std::move(v));
  }
  for (auto node : devices.children("memballoon")) {
    if (d.memballoon)
      return dom_error(error_code::internal_error,
                       "only a single memory balloon device is supported");
    VA_XML_TRY(m, parse_memballoon(node));
    d.memballoon = std::move(m);
  }
  if (opts_.extended_subset)
    return parse_extended_devices(devices);
  return {};
}

result<void> domain_parser::parse_extended_devices(pugi::xml_node devices) {
  auto& d = def_.devices;
  for (auto node : devices.children("audio")) {
    audio_def a;
    VA_XML_TRY(id, prop_uint(node, "id", 10, true));
    if (*id == 0)
      return dom_error(error_code::xml_error, "Invalid value for attribute 'id' in element "
                                              "'audio'. Expected non-negative integer value");
    VA_XML_TRY(type, prop_enum(node, "type",
                               {"none", "alsa", "coreaudio", "jack", "oss", "pulseaudio", "sdl",
                                "spice", "file", "dbus", "pipewire"},
                               true));
    a.id = *id;
    a.type = *type;
    d.audios.push_back(std::move(a));
  }
  for (auto node : devices.children("watchdog")) {
    if (d.watchdog)
      return dom_error(error_code::config_unsupported,
                       "only a single watchdog device is supported");
    watchdog_def w;
    auto model = attr_of(node, "model");
    if (!model)
      return dom_error(error_code::internal_error, "watchdog must contain model name");
    if (!one_of(*model, {"i6300esb", "ib700", "diag288"}))
      return dom_error(error_code::config_unsupported, "unknown watchdog model '" + *model + "'");
    w.model = *model;
    auto action = attr_of(node, "action");
    if (action &&
        !one_of(*action, {"reset", "shutdown", "poweroff", "pause", "dump", "none", "inject-nmi"}))
      return dom_error(error_code::config_unsupported, "unknown watchdog action '" + *action + "'");
    w.action = action.value_or("reset");
    VA_XML_TRY(address, parse_address(node, true));
    w.address = address;
    d.watchdog = std::move(w);
  }
  for (auto node : devices.children("rng")) {
    rng_def r;
    auto model = attr_of(node, "model");
    if (!model)
      return dom_error(error_code::xml_error, "missing RNG device model");
    if (!one_of(*model, {"virtio", "virtio-transitional", "virtio-non-transitional"}))
      return dom_error(error_code::config_unsupported, "unknown RNG model '" + *model + "'");
    r.model = *model;
    auto backend = node.child("backend");
    auto bmodel = attr_of(backend, "model");
    if (!bmodel)
      return dom_error(error_code::xml_error, "missing RNG device backend model");
    if (!one_of(*bmodel, {"random", "egd", "builtin"}))
      return dom_error(error_code::xml_error, "unknown RNG backend model '" + *bmodel + "'");
    r.backend_model = *bmodel;
    r.backend = text_of(backend);
    VA_XML_TRY(address, parse_address(node, true));
    r.address = address;
    d.rngs.push_back(std::move(r));
  }
  return {};
}

result<void> domain_parser::check_boot_orders() const {
  std::vector<uint32_t> seen;
  auto check = [&](uint32_t order) -> result<void> {
    if (order == 0)
      return {};
    if (std::find(seen.begin(), seen.end(), order) != seen.end())
      return dom_error(error_code::xml_error,
                       "boot order '" + std::to_string(order) + "' used for more than one device");
    seen.push_back(order);
    return {};
  };
  for (const auto& disk : def_.devices.disks)
    VA_XML_CHECK(check(disk.boot_order));
  for (const auto& net : def_.devices.interfaces)
    VA_XML_CHECK(check(net.boot_order));
  if (!seen.empty() && root_.child("os").child("boot"))
    return dom_error(error_code::xml_error,
                     "per-device boot elements cannot be used together with os/boot elements");
  return {};
}

result<void> domain_parser::post_parse_disks() {
  auto& d = def_.devices;
  for (auto& disk : d.disks) {
    if (disk.target_dev.empty()) {
      if (disk.target_bus.empty())
        disk.target_bus = disk.device == "floppy" ? "fdc" : "ide";
      continue;
    }
    if (disk.target_bus.empty()) {
      static constexpr std::pair<std::string_view, std::string_view> by_prefix[] = {
          {"hd", "ide"}, {"sd", "scsi"}, {"vd", "virtio"}, {"xvd", "xen"}, {"ubd", "uml"}};
      disk.target_bus = disk.device == "floppy" ? "fdc" : "ide";
      if (disk.device != "floppy")
        for (auto [prefix, name] : by_prefix)
          if (disk.target_dev.starts_with(prefix)) {
            disk.target_bus = name;
            break;
          }
    }
    if (disk.address)
      continue;
    int idx = disk_name_index(disk.target_dev);
    if (idx < 0)
      return dom_error(error_code::xml_error,
                       "Unknown disk name '" + disk.target_dev + "' and no address specified");
    auto u = static_cast<uint32_t>(idx);
    device_address a;
    a.type = "drive";
    if (disk.target_bus == "ide") {
      a.controller = u / 4;
      a.bus = (u % 4) / 2;
      a.unit = u % 2;
    } else if (disk.target_bus == "fdc") {
      a.controller = u / 2;
      a.unit = u % 2;
    } else if (disk.target_bus == "scsi") {
      a.controller = u / 7;
      a.unit = u % 7;
    } else if (disk.target_bus == "sata") {
      a.controller = u / 6;
      a.unit = u % 6;
    } else {
      continue;
    }
    disk.address = a;
  }
  // libvirt adds every drive controller up to the highest a disk names, so
  // one disk may ask for billions of them (controller='2000000000', or a name
  // like 'fdbmtu': 22,241). Past a bound that no real machine reaches, that is
  // refused rather than built.
  for (const auto& disk : d.disks)
    if (disk.address && disk.address->type == "drive" &&
        disk.address->controller > max_drive_controller)
      return dom_error(error_code::config_unsupported,
                       "disk '" + disk.target_dev + "' needs drive controller " +
                         std::to_string(disk.address->controller) + ", above the limit of " +
                         std::to_string(max_drive_controller));
  return {};
}

void domain_parser::add_implicit_controllers() {
  auto& d = def_.devices;
  static constexpr std::string_view drive_buses[] = {"scsi", "fdc", "ide", "sata"};
  for (auto bus : drive_buses) {
    int max_controller = -1;
    for (const auto& disk : d.disks)
      if (disk.target_bus == bus && disk.address && disk.address->type == "drive")
        max_controller = std::max(max_controller, static_cast<int>(disk.address->controller));
    // libvirt adds every index up to the highest (a disk "sdzzz" on scsi
    // makes 2,612); look the existing ones up once rather than per index,
    // which fuzz_xml found quadratic (its rate fell from ~1,500 to ~135
    // executions a second).
    if (max_controller < 0)
      continue;
    std::unordered_set<uint32_t> existing;
    for (const auto& c : d.controllers)
      if (c.type == bus)
        existing.insert(c.index);
    for (int i = 0; i <= max_controller; ++i)
      if (!existing.contains(static_cast<uint32_t>(i))) {
        controller_def c;
        c.type = std::string{bus};
        c.index = static_cast<uint32_t>(i);
        d.controllers.push_back(std::move(c));
      }
  }
  for (const auto& c : d.consoles)
    if (c.target_type == "virtio") {
      maybe_add_controller(d.controllers, "virtio-serial", 0);
      break;
    }
}

result<void> domain_parser::validate_disks() const {
  for (const auto& disk : def_.devices.disks) {
    if (disk.target_dev.empty())
      return make_virt_error(error_code::no_target, error_domain::domain,
                             "missing target information for device" +
                                 (disk.source.empty() ? "" : " " + disk.source));
    bool drive_bus = one_of(disk.target_bus, {"ide", "fdc", "scsi", "sata"});
    if (drive_bus && disk.address && disk.address->type != "drive")
      return dom_error(error_code::config_unsupported,
                       "Invalid address type '" + disk.address->type + "' for the disk '" +
                           disk.target_dev + "' with the bus type '" + disk.target_bus + "'");
    bool floppy = disk.device == "floppy";
    if (floppy && disk.target_bus != "fdc")
      return dom_error(error_code::internal_error,
                       "Invalid bus type '" + disk.target_bus + "' for floppy disk");
    if (!floppy && disk.target_bus == "fdc")
      return dom_error(error_code::internal_error, "Invalid bus type 'fdc' for disk");
    static constexpr std::string_view disk_prefixes[] = {"hd", "sd", "vd", "xvd", "ubd"};
    if (disk.device == "disk" &&
        std::none_of(std::begin(disk_prefixes), std::end(disk_prefixes),
                     [&](std::string_view p) { return disk.target_dev.starts_with(p); }))
      return dom_error(error_code::internal_error,
                       "Invalid harddisk device name: " + disk.target_dev);
    if (floppy && !disk.target_dev.starts_with("fd"))
      return dom_error(error_code::internal_error,
                       "Invalid floppy device name: " + disk.target_dev);
    if (disk.device == "disk" && disk.source.empty())
      return make_virt_error(error_code::no_source, error_domain::domain,
                             "missing source information for device " + disk.target_dev);
  }
  return {};
}

result<void> domain_parser::validate_inputs() const {
  for (const auto& in : def_.devices.inputs) {
    bool mouse_or_keyboard = in.type == "mouse" || in.type == "keyboard";
    if (hvm()) {
      if (in.bus == "ps2" && !mouse_or_keyboard)
        return dom_error(error_code::internal_error,
                         "ps2 bus does not support " + in.type + " input device");
      if (in.bus == "xen")
        return dom_error(error_code::internal_error, "unsupported input bus " + in.bus);
    } else if (def_.os.type == "xen" || def_.os.type == "xenpvh") {
      if (in.bus != "xen")
        return dom_error(error_code::internal_error, "unsupported input bus " + in.bus);
      if (!mouse_or_keyboard)
        return dom_error(error_code::internal_error,
                         "xen bus does not support " + in.type + " input device");
    } else if (def_.type == "vz" || def_.type == "parallels") {
      if (in.bus != "parallels")
        return dom_error(error_code::internal_error,
                         "parallels containers don't support input bus " + in.bus);
      if (!mouse_or_keyboard)
        return dom_error(error_code::internal_error,
                         "parallels bus does not support " + in.type + " input device");
    } else {
      return dom_error(error_code::internal_error,
                       "Input devices are not supported by this virtualization driver.");
    }
  }
  return {};
}

result<void> domain_parser::validate_disk_uniqueness() const {
  const auto& disks = def_.devices.disks;
  auto source = [](const disk_def& d) { return d.source.empty() ? "<null>" : d.source; };
  for (size_t i = 0; i < disks.size(); ++i)
    for (size_t j = i + 1; j < disks.size(); ++j)
      if (!disks[i].target_dev.empty() && disks[i].target_dev == disks[j].target_dev)
        return dom_error(error_code::xml_error,
                         "target '" + disks[i].target_dev + "' duplicated for disk sources '" +
                             source(disks[i]) + "' and '" + source(disks[j]) + "'");
  for (size_t i = 0; i < disks.size(); ++i) {
    const auto& a = disks[i];
    if (!a.address || a.address->type != "drive")
      continue;
    for (size_t j = i + 1; j < disks.size(); ++j) {
      const auto& b = disks[j];
      if (b.address && b.address->type == "drive" && a.target_bus == b.target_bus &&
          *a.address == *b.address) {
        const auto& x = *a.address;
        return dom_error(error_code::config_unsupported,
                         "Found duplicate drive address for disk with target name '" +
                             a.target_dev + "' controller='" + std::to_string(x.controller) +
                             "' bus='" + std::to_string(x.bus) + "' target='" +
                             std::to_string(x.target) + "' unit='" + std::to_string(x.unit) + "'");
      }
    }
  }
  return {};
}

result<void> domain_parser::post_parse_chardevs() {
  auto& d = def_.devices;
  auto serial_like = [](const chardev_def& c) {
    return c.target_type.empty() || c.target_type == "serial";
  };
  for (size_t i = 1; i < d.consoles.size(); ++i)
    if (serial_like(d.consoles[i]))
      return dom_error(error_code::config_unsupported,
                       "Only the first console can be a serial port");
  if (hvm()) {
    if (!d.consoles.empty() && serial_like(d.consoles[0])) {
      if (d.serials.empty()) {
        chardev_def serial = d.consoles[0];
        serial.target_type.clear();
        serial.target_port = 0;
        d.serials.push_back(std::move(serial));
      }
      d.consoles[0].target_type = "serial";
    } else if (!d.serials.empty() &&
               (d.serials[0].target_type.empty() || d.serials[0].target_type == "isa-serial")) {
      chardev_def stub;
      stub.type = "pty";
      stub.target_type = "serial";
      d.consoles.insert(d.consoles.begin(), std::move(stub));
    }
  }
  for (auto& c : d.consoles)
    if (c.target_type.empty())
      c.target_type = "serial";
  return {};
}

std::string domain_parser::default_video_model() const {
  if (one_of(def_.os.type, {"xen", "linux", "xenpvh"}))
    return "xen";
  if (def_.os.arch.starts_with("ppc64"))
    return "vga";
  return "cirrus";
}

uint32_t domain_parser::default_video_ram(const std::string& model) const {
  if (one_of(model, {"vga", "cirrus", "vmvga"}))
    return def_.type == "vbox" ? 8192 : def_.type == "vmware" ? 4096 : 16384;
  if (model == "bochs")
    return 16384;
  if (model == "xen")
    return 4096;
  if (model == "qxl")
    return 65536;
  if (model == "vbox")
    return 8192;
  return 0;
}

namespace {

/// libvirt rounds video memory sizes up to a power of two.
uint32_t round_up_power_of_two(uint32_t n) {
  if (n == 0)
    return 0;
  uint64_t p = 1;
  while (p < n)
    p <<= 1;
  return p > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(p);
}

} // namespace

void domain_parser::fill_video_defaults(video_def& v) const {
  if (v.model == "qxl" && v.ram == 0)
    v.ram = default_video_ram(v.model);
  if (v.vram == 0)
    v.vram = default_video_ram(v.model);
  v.ram = round_up_power_of_two(v.ram);
  v.vram = round_up_power_of_two(v.vram);
}

void domain_parser::add_implicit_video() {
  auto& videos = def_.devices.videos;
  if (!def_.devices.graphics.empty() && videos.empty()) {
    video_def v;
    v.model = default_video_model();
    v.heads = 1;
    videos.push_back(std::move(v));
  }
  if (videos.empty())
    return;
  auto& first = videos.front();
  if (first.model == "none") {
    // libvirt clears what it filled in for a "none" video.
    video_def none;
    none.model = "none";
    none.address = first.address;
    first = std::move(none);
  } else {
    first.primary = true;
    fill_video_defaults(first);
  }
}

result<void> domain_parser::post_parse_memory() {
  auto& mem = def_.memory;
  if (mem.max_kib == 0)
    return dom_error(error_code::xml_error,
                     "Memory size must be specified via <memory> or in the <numa> configuration");
  if (mem.current_kib == 0 || mem.current_kib > mem.max_kib)
    mem.current_kib = mem.max_kib;
  if (mem.hotplug_max_kib.has_value() != (mem.hotplug_slots != 0))
    return dom_error(error_code::xml_error,
                     "both maximum memory size and memory slot count must be specified");
  if (mem.hotplug_max_kib && *mem.hotplug_max_kib < mem.max_kib)
    return dom_error(error_code::xml_error,
                     "maximum memory size must be equal or greater than the actual memory size");
  return {};
}

result<void> domain_parser::reject_duplicate_controllers() const {
  const auto& list = def_.devices.controllers;
  for (size_t i = 0; i < list.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      // USB companion controllers share an index.
      if (list[i].type != "usb" && list[i].type == list[j].type && list[i].index == list[j].index)
        return dom_error(error_code::xml_error, "Multiple '" + list[i].type +
                                                    "' controllers with index '" +
                                                    std::to_string(list[i].index) + "'");
  return {};
}

void domain_parser::default_input_buses() {
  bool x86 = def_.os.arch == "i686" || def_.os.arch == "x86_64";
  for (auto& in : def_.devices.inputs) {
    if (!in.bus.empty())
      continue;
    if (hvm())
      in.bus = (in.type == "mouse" || in.type == "keyboard") && x86 ? "ps2"
               : def_.os.arch.starts_with("s390")                   ? "virtio"
                                                                    : "usb";
    else if (def_.os.type == "xen" || def_.os.type == "xenpvh")
      in.bus = "xen";
    else if (def_.type == "vz" || def_.type == "parallels")
      in.bus = "parallels";
  }
}

result<void> domain_parser::post_parse() {
  VA_XML_CHECK(check_boot_orders());
  if (opts_.post_parse)
    VA_XML_CHECK(opts_.post_parse(def_));
  // Each device on its own first (libvirt's device post-parse).
  VA_XML_CHECK(post_parse_disks());
  default_input_buses();
  for (auto& v : def_.devices.videos)
    fill_video_defaults(v);
  // Then the domain as a whole.
  if (def_.os.type == "exe" && !def_.os.init)
    return dom_error(error_code::xml_error, "init binary must be specified");
  VA_XML_CHECK(post_parse_memory());
  VA_XML_CHECK(reject_duplicate_controllers());
  bool device_boot = std::any_of(def_.devices.disks.begin(), def_.devices.disks.end(),
                                 [](const disk_def& d) { return d.boot_order != 0; }) ||
                     std::any_of(def_.devices.interfaces.begin(), def_.devices.interfaces.end(),
                                 [](const interface_def& n) { return n.boot_order != 0; });
  if (hvm() && def_.os.boot_devs.empty() && !device_boot)
    def_.os.boot_devs.push_back("hd");
  VA_XML_CHECK(post_parse_chardevs());
  add_implicit_controllers();
  add_implicit_video();
  if (def_.name.find('/') != std::string::npos)
    return dom_error(error_code::xml_error, "name " + def_.name + " cannot contain '/'");
  // Validation: each device, then the domain.
  VA_XML_CHECK(validate_disks());
  VA_XML_CHECK(validate_inputs());
  VA_XML_CHECK(validate_disk_uniqueness());
  for (auto [event, action] :
       {std::pair<const char*, const std::string*>{"poweroff", &def_.on_poweroff},
        {"reboot", &def_.on_reboot}})
    if (action->starts_with("coredump-"))
      return dom_error(error_code::config_unsupported, std::string{"Lifecycle event '"} + event +
                                                           "' doesn't support '" + *action +
                                                           "' action");
  auto primaries = std::count_if(def_.devices.videos.begin(), def_.devices.videos.end(),
                                 [](const video_def& v) { return v.primary; });
  if (primaries > 1)
    return dom_error(error_code::config_unsupported, "Only one primary video device is supported");
  if (opts_.finish)
    VA_XML_CHECK(opts_.finish(def_));
  return {};
}

// --- the formatter

/// The device-info tail of a device: `<boot>`, `<alias>` (live only) and `<address>`.
void format_device_info(xml_writer& w, uint32_t boot_order, const std::string& alias,
                        const std::optional<device_address>& address, const domain_format& opts) {
  if (boot_order)
    w.line("<boot" + attr("order", std::to_string(boot_order)) + "/>");
  if (!alias.empty() && !opts.inactive)
    w.line("<alias" + attr("name", alias) + "/>");
  if (address)
    w.line(format_address(*address));
}

bool has_device_info(const std::string& alias, const std::optional<device_address>& address,
                     const domain_format& opts) {
  return address || (!alias.empty() && !opts.inactive);
}

void format_chardev(xml_writer& w, std::string_view element, const chardev_def& c, bool console,
                    const domain_format& opts) {
  // A pty's path is live state.
  bool live_pty = c.type == "pty" && !c.source_path.empty() && !opts.inactive;
  std::string open = "<" + std::string{element} + attr("type", c.type);
  if (console && live_pty)
    open += attr("tty", c.source_path);
  w.open(open + ">");
  if (c.type == "unix")
    w.line("<source" + attr("mode", c.source_mode) + attr("path", c.source_path) + "/>");
  else if (c.type != "pty" || live_pty)
    if (!c.source_path.empty())
      w.line("<source" + attr("path", c.source_path) + "/>");
  std::string target = "<target";
  if (console || !c.target_type.empty())
    target += attr("type", c.target_type);
  target += attr("port", std::to_string(c.target_port));
  if (!console && !c.target_model.empty()) {
    w.open(target + ">");
    w.line("<model" + attr("name", c.target_model) + "/>");
    w.close("</target>");
  } else {
    w.line(target + "/>");
  }
  format_device_info(w, 0, c.alias, std::nullopt, opts);
  w.close("</" + std::string{element} + ">");
}

/// Prints `open` as a self-closed element when it has no alias or address.
void format_with_address(xml_writer& w, const std::string& open, std::string_view element,
                         const std::string& alias, const std::optional<device_address>& address,
                         const domain_format& opts) {
  if (!has_device_info(alias, address, opts)) {
    w.line(open + "/>");
    return;
  }
  w.open(open + ">");
  format_device_info(w, 0, alias, address, opts);
  w.close("</" + std::string{element} + ">");
}

void format_devices(xml_writer& w, const domain_def& def, const domain_format& opts) {
  const auto& d = def.devices;
  w.open("<devices>");
  if (!d.emulator.empty())
    w.line("<emulator>" + escape(d.emulator) + "</emulator>");
  for (const auto& disk : d.disks) {
    w.open("<disk" + attr("type", disk.type) + attr("device", disk.device) + ">");
    if (!disk.driver_name.empty() || !disk.driver_type.empty() || !disk.driver_cache.empty()) {
      std::string driver = "<driver";
      if (!disk.driver_name.empty())
        driver += attr("name", disk.driver_name);
      if (!disk.driver_type.empty())
        driver += attr("type", disk.driver_type);
      if (!disk.driver_cache.empty())
        driver += attr("cache", disk.driver_cache);
      w.line(driver + "/>");
    }
    if (!disk.source.empty()) {
      std::string source = "<source" + attr(disk.type == "block" ? "dev" : "file", disk.source);
      bool indexed = disk.source_index && !opts.inactive;
      if (indexed)
        source += attr("index", std::to_string(disk.source_index));
      w.line(source + "/>");
      if (indexed)
        w.line("<backingStore/>");
    }
    w.line("<target" + attr("dev", disk.target_dev) + attr("bus", disk.target_bus) + "/>");
    if (disk.readonly)
      w.line("<readonly/>");
    if (disk.shareable)
      w.line("<shareable/>");
    format_device_info(w, disk.boot_order, disk.alias, disk.address, opts);
    w.close("</disk>");
  }
  for (const auto& c : d.controllers) {
    std::string open =
        "<controller" + attr("type", c.type) + attr("index", std::to_string(c.index));
    if (!c.model.empty())
      open += attr("model", c.model);
    bool options = !c.model_name.empty() || c.target_chassis || c.target_port;
    if (!options) {
      format_with_address(w, open, "controller", c.alias, c.address, opts);
      continue;
    }
    w.open(open + ">");
    if (!c.model_name.empty())
      w.line("<model" + attr("name", c.model_name) + "/>");
    if (c.target_chassis || c.target_port) {
      std::string target = "<target";
      if (c.target_chassis)
        target += attr("chassis", std::to_string(*c.target_chassis));
      if (c.target_port)
        target += attr("port", hex(*c.target_port, 0));
      w.line(target + "/>");
    }
    format_device_info(w, 0, c.alias, c.address, opts);
    w.close("</controller>");
  }
  for (const auto& net : d.interfaces) {
    bool actual = net.type == "network" && !net.actual_bridge.empty() && !opts.inactive;
    w.open("<interface" + attr("type", actual ? "bridge" : net.type) + ">");
    w.line("<mac" + attr("address", net.mac) + "/>");
    if (actual)
      w.line("<source" + attr("network", net.source) + attr("portid", net.portid) +
             attr("bridge", net.actual_bridge) + "/>");
    else if (net.type == "network")
      w.line("<source" + attr("network", net.source) + "/>");
    else if (net.type == "bridge")
      w.line("<source" + attr("bridge", net.source) + "/>");
    if (!net.target_dev.empty() && !(opts.inactive && net.target_dev.starts_with("vnet")))
      w.line("<target" + attr("dev", net.target_dev) + "/>");
    if (!net.model.empty())
      w.line("<model" + attr("type", net.model) + "/>");
    format_device_info(w, net.boot_order, net.alias, net.address, opts);
    w.close("</interface>");
  }
  for (const auto& s : d.serials)
    format_chardev(w, "serial", s, false, opts);
  for (size_t n = 0; n < d.consoles.size(); ++n) {
    chardev_def console = d.consoles[n];
    // An HVM guest's serial console is an alias of the serial port.
    if (def.os.type == "hvm" && console.target_type == "serial" && n < d.serials.size()) {
      console = d.serials[n];
      console.target_type = "serial";
    }
    format_chardev(w, "console", console, true, opts);
  }
  for (const auto& in : d.inputs) {
    std::string open = "<input" + attr("type", in.type);
    if (!in.bus.empty() && in.bus != "none")
      open += attr("bus", in.bus);
    format_with_address(w, open, "input", in.alias, in.address, opts);
  }
  for (const auto& g : d.graphics) {
    std::string open = "<graphics" + attr("type", g.type);
    if (g.listen_type == "address") {
      if (g.type == "vnc") {
        if (g.port && (!g.autoport || !opts.inactive))
          open += attr("port", std::to_string(g.port));
        else if (g.autoport)
          open += attr("port", "-1");
      } else {
        if (g.port)
          open += attr("port", std::to_string(g.port));
        if (g.tls_port)
          open += attr("tlsPort", std::to_string(g.tls_port));
      }
      open += attr("autoport", g.autoport ? "yes" : "no");
      if (!g.listen.empty())
        open += attr("listen", g.listen);
    }
    if (!g.keymap.empty())
      open += attr("keymap", g.keymap);
    if (opts.secure && !g.passwd.empty())
      open += attr("passwd", g.passwd);
    w.open(open + ">");
    std::string listen =
        "<listen" + attr("type", g.listen_type.empty() ? "address" : g.listen_type);
    if (g.listen_type == "address" && !g.listen.empty())
      listen += attr("address", g.listen);
    w.line(listen + "/>");
    w.close("</graphics>");
  }
  for (const auto& a : d.audios)
    w.line("<audio" + attr("id", std::to_string(a.id)) + attr("type", a.type) + "/>");
  for (const auto& v : d.videos) {
    w.open("<video>");
    std::string model = "<model" + attr("type", v.model);
    if (v.ram)
      model += attr("ram", std::to_string(v.ram));
    if (v.vram)
      model += attr("vram", std::to_string(v.vram));
    if (v.vgamem)
      model += attr("vgamem", std::to_string(v.vgamem));
    if (v.heads)
      model += attr("heads", std::to_string(v.heads));
    if (v.primary)
      model += attr("primary", "yes");
    w.line(model + "/>");
    format_device_info(w, 0, v.alias, v.address, opts);
    w.close("</video>");
  }
  if (d.watchdog)
    format_with_address(
        w, "<watchdog" + attr("model", d.watchdog->model) + attr("action", d.watchdog->action),
        "watchdog", d.watchdog->alias, d.watchdog->address, opts);
  if (d.memballoon)
    format_with_address(w, "<memballoon" + attr("model", d.memballoon->model), "memballoon",
                        d.memballoon->alias, d.memballoon->address, opts);
  for (const auto& r : d.rngs) {
    w.open("<rng" + attr("model", r.model) + ">");
    std::string backend = "<backend" + attr("model", r.backend_model);
    w.line(r.backend.empty() ? backend + "/>" : backend + ">" + escape(r.backend) + "</backend>");
    format_device_info(w, 0, r.alias, r.address, opts);
    w.close("</rng>");
  }
  w.close("</devices>");
}

} // namespace

result<domain_def> parse_domain(std::string_view xml, const domain_parse& opts) {
  pugi::xml_document doc;
  VA_XML_CHECK(load_document(doc, xml, domain_doc));
  return domain_parser{doc.document_element(), opts}.run();
}

std::string format_domain(const domain_def& def, const domain_format& opts) {
  xml_writer w;
  std::string open = "<domain" + attr("type", def.type);
  if (opts.id >= 0 && !opts.inactive)
    open += attr("id", std::to_string(opts.id));
  w.open(open + ">");
  w.line("<name>" + escape(def.name) + "</name>");
  w.line("<uuid>" + format_uuid(def.uuid) + "</uuid>");
  if (def.title)
    w.line("<title>" + escape(*def.title) + "</title>");
  if (def.description)
    w.line("<description>" + escape(*def.description) + "</description>");
  const auto& mem = def.memory;
  if (mem.hotplug_max_kib)
    w.line("<maxMemory" + attr("slots", std::to_string(mem.hotplug_slots)) + attr("unit", "KiB") +
           ">" + std::to_string(*mem.hotplug_max_kib) + "</maxMemory>");
  w.line("<memory unit='KiB'>" + std::to_string(mem.max_kib) + "</memory>");
  w.line("<currentMemory unit='KiB'>" + std::to_string(mem.current_kib) + "</currentMemory>");
  std::string vcpu = "<vcpu" + attr("placement", def.vcpu.placement);
  if (def.vcpu.placement == "static" && !def.vcpu.cpuset.empty())
    vcpu += attr("cpuset", def.vcpu.cpuset);
  if (def.vcpu.current != def.vcpu.max)
    vcpu += attr("current", std::to_string(def.vcpu.current));
  w.line(vcpu + ">" + std::to_string(def.vcpu.max) + "</vcpu>");
  if (def.vcpu.placement == "auto") {
    w.open("<numatune>");
    w.line("<memory mode='strict' placement='auto'/>");
    w.close("</numatune>");
  }
  if (!def.resource_partition.empty()) {
    w.open("<resource>");
    w.line("<partition>" + escape(def.resource_partition) + "</partition>");
    w.close("</resource>");
  }
  w.open("<os>");
  std::string type = "<type" + attr("arch", def.os.arch);
  if (!def.os.machine.empty())
    type += attr("machine", def.os.machine);
  w.line(type + ">" + escape(def.os.type) + "</type>");
  if (def.os.init)
    w.line("<init>" + escape(*def.os.init) + "</init>");
  if (def.os.kernel)
    w.line("<kernel>" + escape(*def.os.kernel) + "</kernel>");
  if (def.os.initrd)
    w.line("<initrd>" + escape(*def.os.initrd) + "</initrd>");
  if (def.os.cmdline)
    w.line("<cmdline>" + escape(*def.os.cmdline) + "</cmdline>");
  for (const auto& dev : def.os.boot_devs)
    w.line("<boot" + attr("dev", dev) + "/>");
  if (def.os.bootmenu)
    w.line(std::string{"<bootmenu enable='"} + (*def.os.bootmenu ? "yes" : "no") + "'/>");
  w.close("</os>");
  if (def.features.any()) {
    w.open("<features>");
    if (def.features.acpi)
      w.line("<acpi/>");
    if (def.features.apic)
      w.line(def.features.apic_eoi.empty() ? std::string{"<apic/>"}
                                           : "<apic" + attr("eoi", def.features.apic_eoi) + "/>");
    if (def.features.pae)
      w.line("<pae/>");
    w.close("</features>");
  }
  if (def.cpu) {
    const auto& cpu = *def.cpu;
    std::string open = "<cpu" + attr("mode", cpu.mode);
    if (!cpu.match.empty())
      open += attr("match", cpu.match);
    if (!cpu.check.empty())
      open += attr("check", cpu.check);
    if (!cpu.migratable.empty())
      open += attr("migratable", cpu.migratable);
    if (cpu.model.empty() && cpu.features.empty()) {
      w.line(open + "/>");
    } else {
      w.open(open + ">");
      if (!cpu.model.empty())
        w.line("<model" +
               attr("fallback", cpu.model_fallback.empty() ? "allow" : cpu.model_fallback) + ">" +
               escape(cpu.model) + "</model>");
      for (const auto& f : cpu.features)
        w.line("<feature" + attr("policy", f.policy) + attr("name", f.name) + "/>");
      w.close("</cpu>");
    }
  }
  std::string clock = "<clock" + attr("offset", def.clock_offset);
  if (def.clock_offset == "timezone")
    clock += attr("timezone", def.clock_timezone);
  if (!def.clock_adjustment.empty())
    clock += attr("adjustment", def.clock_adjustment);
  if (def.clock_offset == "variable")
    clock += attr("basis", def.clock_basis.empty() ? "utc" : def.clock_basis);
  w.line(clock + "/>");
  w.line("<on_poweroff>" + escape(def.on_poweroff) + "</on_poweroff>");
  w.line("<on_reboot>" + escape(def.on_reboot) + "</on_reboot>");
  w.line("<on_crash>" + escape(def.on_crash) + "</on_crash>");
  format_devices(w, def, opts);
  if (def.seclabel && !(opts.inactive && def.seclabel->type == "dynamic")) {
    const auto& sl = *def.seclabel;
    w.open("<seclabel" + attr("type", sl.type) + attr("model", sl.model) +
           attr("relabel", sl.relabel ? "yes" : "no") + ">");
    if (!sl.label.empty())
      w.line("<label>" + escape(sl.label) + "</label>");
    if (!sl.image_label.empty())
      w.line("<imagelabel>" + escape(sl.image_label) + "</imagelabel>");
    w.close("</seclabel>");
  }
  w.close("</domain>");
  return std::move(w).str();
}

} // namespace virtactor::drivers::xml
