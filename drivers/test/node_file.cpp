#include "drivers/test/node_file.hpp"

#include "drivers/test/domain_setup.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pugixml.hpp>

#include "drivers/test/domain_setup.hpp"
#include "drivers/test/errors.hpp"
#include "drivers/xml/limits.hpp"

namespace virtactor::drivers::test {

namespace {

/// The namespace of the test driver's domain XML extensions.
constexpr const char* test_namespace = "http://libvirt.org/schemas/domain/test/1.0";

/// test:///default, as libvirt's test driver builds it.
constexpr const char* default_config = R"(<node>
  <domain type='test'>
    <name>test</name>
    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
    <memory>8388608</memory>
    <currentMemory>2097152</currentMemory>
    <vcpu>2</vcpu>
    <os>
      <type>hvm</type>
    </os>
    <devices>
      <disk type='file' device='disk'>
        <source file='/guest/diskimage1'/>
        <target dev='vda' bus='virtio'/>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </disk>
      <interface type='network'>
        <mac address='aa:bb:cc:dd:ee:ff'/>
        <source network='default'/>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
      </interface>
      <memballoon model='virtio'>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
      </memballoon>
    </devices>
  </domain>
  <network>
    <name>default</name>
    <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.2' end='192.168.122.254'/>
      </dhcp>
    </ip>
  </network>
  <pool type='dir'>
    <name>default-pool</name>
    <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
    <target>
      <path>/default-pool</path>
    </target>
  </pool>
</node>
)";

virt_error xml_error(std::string message, error_domain domain = error_domain::test) {
  return make_virt_error(error_code::xml_error, domain, "XML error: " + std::move(message));
}

/// A parse failure as libvirt words it: where, what, the line, a caret. The
/// line and caret quote the file, so they are left out when the reader may
/// not see its text (`file_access::quote_content`).
virt_error syntax_error(const std::string& where, std::string_view text,
                        const pugi::xml_parse_result& r, bool quote) {
  size_t offset = std::min(static_cast<size_t>(std::max<ptrdiff_t>(r.offset, 0)), text.size());
  size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  size_t line_end = text.find('\n', offset);
  if (line_end == std::string_view::npos)
    line_end = text.size();
  size_t line_no = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + line_start, '\n'));
  std::string msg = where + ":" + std::to_string(line_no) + ": " + r.description();
  if (quote)
    msg += "\n" + std::string{text.substr(line_start, line_end - line_start)} + "\n" +
           std::string(offset - line_start, '-') + "^";
  return make_virt_error(error_code::xml_detail, error_domain::test, std::move(msg));
}

using document = std::unique_ptr<pugi::xml_document>;

/// libxml2's report for a file with nothing in it (or a directory).
virt_error empty_document(const std::string& path) {
  return make_virt_error(error_code::xml_detail, error_domain::test,
                         path + ":1: Document is empty\n(null)\n^");
}

/// The text of the file at `path`, or why not. Nothing but a regular file
/// is read (a FIFO would block, a device may never end), nothing over
/// `max_size`, and every check is made on the open file itself.
struct file_text {
  std::string text;
  bool directory = false;
  int error = 0;              // errno of a failed open or read
  std::string refusal;        // not a regular file, too large
};

file_text read_regular_file(const std::string& path, uint64_t max_size) {
  file_text out;
  // O_NONBLOCK: opening a FIFO or a device must not wait; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    out.error = errno;
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.error = errno;
  } else if (S_ISDIR(st.st_mode)) {
    out.directory = true;
  } else if (!S_ISREG(st.st_mode)) {
    out.refusal = "'" + path + "' is not a regular file";
  } else if (static_cast<uint64_t>(st.st_size) > max_size) {
    out.refusal = "'" + path + "' is larger than " + std::to_string(max_size) +
                  " bytes (max_test_driver_file_size)";
  } else {
    out.text.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    for (;;) {
      if (got == out.text.size())
        out.text.resize(got + 4096); // the file grew: read on, within the bound
      auto n = ::read(fd, out.text.data() + got, out.text.size() - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        out.error = errno;
        break;
      }
      if (n == 0)
        break;
      got += static_cast<size_t>(n);
      if (got > max_size) {
        out.refusal = "'" + path + "' is larger than " + std::to_string(max_size) +
                      " bytes (max_test_driver_file_size)";
        break;
      }
    }
    out.text.resize(got);
  }
  ::close(fd);
  return out;
}

/// `read_regular_file` with the file-system identity of `access`'s user:
/// on a thread of its own whose fsuid, fsgid and groups are that user's
/// (per-thread credentials: raw system calls, not glibc's process-wide
/// wrappers), so the kernel decides what the client may read.
result<file_text> read_as(const std::string& path, const file_access& access) {
  if (!access.uid)
    return read_regular_file(path, access.max_size);
  if (*access.uid == ::geteuid() && access.gid == ::getegid())
    return read_regular_file(path, access.max_size);
  result<file_text> out = file_text{};
  std::thread worker([&] {
    std::vector<gid_t> groups(access.groups.begin(), access.groups.end());
    if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0 ||
        (::syscall(SYS_setfsgid, access.gid), ::syscall(SYS_setfsgid, -1)) !=
          static_cast<long>(access.gid) ||
        (::syscall(SYS_setfsuid, *access.uid), ::syscall(SYS_setfsuid, -1)) !=
          static_cast<long>(*access.uid)) {
      out = errors::internal("cannot take the identity of uid " + std::to_string(*access.uid) +
                             " to open '" + path + "': the daemon lacks the privilege");
      return;
    }
    out = read_regular_file(path, access.max_size);
    // The thread ends here, and its borrowed identity with it.
  });
  worker.join();
  return out;
}

result<document> parse_file(const std::string& path, const file_access& access) {
  if (!access.allowed)
    return make_virt_error(error_code::operation_denied, error_domain::test,
                           "operation forbidden: " + access.refusal);
  auto read = read_as(path, access);
  if (!read)
    return read.error();
  if (read->directory)
    return empty_document(path);
  if (!read->refusal.empty())
    return make_virt_error(error_code::invalid_arg, error_domain::test,
                           "invalid argument: " + read->refusal);
  if (read->error != 0) {
    // libvirt says only this; a remote client also learns why (as itself).
    if (access.quote_content)
      return xml_error("failed to parse xml document '" + path + "'");
    return xml_error("failed to parse xml document '" + path + "': " +
                     std::strerror(read->error));
  }
  auto& text = read->text;
  if (text.empty())
    return empty_document(path);
  auto doc = std::make_unique<pugi::xml_document>();
  auto r = doc->load_buffer(text.data(), text.size(), pugi::parse_default);
  if (!r)
    return syntax_error(path, text, r, access.quote_content);
  if (!doc->document_element())
    return empty_document(path);
  if (auto ok = xml::check_document_depth(*doc, path, error_domain::test); !ok)
    return ok.error();
  return doc;
}

/// `testBuildFilename`: `name` relative to the directory of `node_file`.
std::string relative_to(const std::string& node_file, const std::string& name) {
  if (!name.empty() && name[0] == '/')
    return name;
  auto slash = node_file.rfind('/');
  std::string dir = slash == std::string::npos ? "." : node_file.substr(0, slash);
  if (dir.empty())
    dir = "/";
  return dir + "/" + name;
}

std::string to_text(const pugi::xml_node& n) {
  std::ostringstream out;
  n.print(out, "", pugi::format_raw);
  return out.str();
}

/// The parsing of one node document.
class loader {
public:
  loader(std::string file, const file_access& access) : file_(std::move(file)), access_(access) {}

  result<node_config> run(const pugi::xml_node& root, node_description node) {
    node_config cfg;
    cfg.node = std::move(node);
    if (std::string_view{root.name()} != "node")
      return xml_error("expecting root element of 'node', not '" + std::string{root.name()} + "'",
                       error_domain::xml);
    if (auto ok = parse_node_info(root, cfg.node.info); !ok)
      return ok.error();
    for (auto el : root.children("domain")) {
      auto d = parse_domain(el);
      if (!d)
        return d.error();
      cfg.domains.push_back(std::move(*d));
    }
    for (auto el : root.children("network")) {
      auto n = resolve(el);
      if (!n)
        return n.error();
      auto def = xml::parse_network(to_text(n->node));
      if (!def)
        return def.error();
      cfg.networks.push_back(std::move(*def));
    }
    for (auto el : root.children("pool")) {
      auto p = parse_pool(el);
      if (!p)
        return p.error();
      cfg.pools.push_back(std::move(*p));
    }
    return cfg;
  }

private:
  /// An element of the node document, or the root of the file its `file=`
  /// attribute names (`testParseXMLDocFromFile`).
  struct resolved {
    pugi::xml_node node;
    document doc; ///< owns `node` when it came from a file
  };

  result<resolved> resolve(const pugi::xml_node& el) {
    auto file = el.attribute("file");
    if (!file)
      return resolved{el, nullptr};
    auto path = relative_to(file_, file.value());
    auto doc = parse_file(path, access_);
    if (!doc)
      return doc.error();
    auto root = (*doc)->document_element();
    return resolved{root, std::move(*doc)};
  }

  /// `virXPathLong` of `/node/cpu/NAME[1]` into `out`; absent leaves it.
  static result<void> read_long(const pugi::xml_node& cpu, const char* name, int64_t& out,
                                bool& present, const char* what) {
    present = false;
    auto text = std::string{cpu.child(name).text().get()};
    if (!cpu.child(name) || text.empty())
      return {};
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != '\0')
      return xml_error(std::string{"invalid node "} + what + " value");
    out = v;
    present = true;
    return {};
  }

  static result<void> parse_node_info(const pugi::xml_node& root, node_info& info) {
    auto cpu = root.child("cpu");
    int64_t v = 0;
    bool present = false;
    struct field {
      const char* name;
      const char* what;
      int32_t* target;
    } fields[] = {{"nodes", "cpu nodes", &info.nodes},
                  {"sockets", "cpu sockets", &info.sockets},
                  {"cores", "cpu cores", &info.cores},
                  {"threads", "cpu threads", &info.threads}};
    for (auto& f : fields) {
      if (auto ok = read_long(cpu, f.name, v, present, f.what); !ok)
        return ok;
      if (present)
        *f.target = static_cast<int32_t>(v);
    }
    info.cpus = info.cores * info.threads * info.sockets * info.nodes;
    if (auto ok = read_long(cpu, "active", v, present, "cpu active"); !ok)
      return ok;
    if (present && v < info.cpus)
      info.cpus = static_cast<int32_t>(v);
    if (auto ok = read_long(cpu, "mhz", v, present, "cpu mhz"); !ok)
      return ok;
    if (present)
      info.mhz = static_cast<int32_t>(v);
    std::string model = cpu.child("model").text().get();
    if (!model.empty()) {
      if (model.size() >= 32)
        return errors::internal("Model " + model + " too big for destination");
      info.model = model;
    }
    int64_t memory = 0;
    if (auto ok = read_long(root, "memory", memory, present, "memory"); !ok)
      return ok;
    if (present)
      info.memory = static_cast<uint64_t>(memory);
    return {};
  }

  /// The prefixes bound to the test namespace where `el` sits.
  static std::vector<std::string> test_prefixes(const pugi::xml_node& el) {
    std::vector<std::string> out;
    for (auto n = el; n; n = n.parent())
      for (auto a : n.attributes()) {
        std::string_view name{a.name()};
        if (name.substr(0, 6) == "xmlns:" && std::string_view{a.value()} == test_namespace)
          out.emplace_back(name.substr(6));
      }
    return out;
  }

  result<node_domain> parse_domain(const pugi::xml_node& el) {
    auto r = resolve(el);
    if (!r)
      return r.error();
    // Work on a copy: the namespace extensions are read, then dropped before
    // the domain parser sees the document.
    pugi::xml_document copy;
    auto dom = copy.append_copy(r->node);
    node_domain out;
    bool has_runstate = false;
    std::string runstate;
    for (auto& prefix : test_prefixes(r->node)) {
      auto child = [&](const char* local) { return dom.child((prefix + ":" + local).c_str()); };
      if (auto n = child("runstate")) {
        has_runstate = true;
        runstate = n.text().get();
      }
      out.transient = out.transient || child("transient");
      out.has_managed_save = out.has_managed_save || child("hasmanagedsave");
      for (const char* local : {"runstate", "transient", "hasmanagedsave", "domainsnapshot"})
        while (auto n = child(local))
          dom.remove_child(n);
    }
    if (has_runstate) {
      char* end = nullptr;
      errno = 0;
      unsigned long v = std::strtoul(runstate.c_str(), &end, 10);
      if (runstate.empty() || errno != 0 || *end != '\0' || runstate[0] == '-')
        return xml_error("invalid runstate");
      if (v >= 8)
        return xml_error("runstate '" + std::to_string(v) + "' out of range'");
      out.runstate = static_cast<int32_t>(v);
    }
    constexpr int32_t shutoff = 5;
    if (out.transient && out.runstate == shutoff)
      return xml_error("transient domain cannot have runstate 'shutoff'");
    if (out.has_managed_save && out.runstate != shutoff)
      return xml_error("domain with managedsave data can only have runstate 'shutoff'");
    auto def = xml::parse_domain(to_text(dom), parse_options());
    if (!def)
      return def.error();
    if (auto ok = generate_ifnames(*def); !ok)
      return ok.error();
    out.def = std::move(*def);
    return out;
  }

  result<node_pool> parse_pool(const pugi::xml_node& el) {
    auto r = resolve(el);
    if (!r)
      return r.error();
    auto def = xml::parse_pool(to_text(r->node));
    if (!def)
      return def.error();
    node_pool out;
    out.def = std::move(*def);
    // Volumes nest in the pool element that ends up in the document: the
    // pool file's own element when the pool came from a file.
    for (auto v : r->node.children("volume")) {
      auto vr = resolve(v);
      if (!vr)
        return vr.error();
      auto vol = xml::parse_volume(to_text(vr->node), out.def.type);
      if (!vol)
        return vol.error();
      // A configured volume keeps the key and path its document gives; the
      // pool fills in what is missing.
      vol->key = vr->node.child_value("key");
      vol->target_path = vr->node.child("target").child_value("path");
      out.volumes.push_back(std::move(*vol));
    }
    return out;
  }

  std::string file_;
  const file_access& access_;
};

} // namespace

result<node_config> load_node_file(const std::string& path, const file_access* access) {
  static const file_access own_files;
  const auto& files = access ? *access : own_files;
  auto doc = parse_file(path, files);
  if (!doc)
    return doc.error();
  return loader{path, files}.run((*doc)->document_element(), node_description::file_node());
}

result<void> check_node_file(const std::string& path, const file_access& access) {
  auto doc = parse_file(path, access);
  if (!doc)
    return doc.error();
  return {};
}

result<node_config> default_node_config() {
  pugi::xml_document doc;
  auto r = doc.load_string(default_config);
  if (!r)
    return errors::internal("the built-in test configuration does not parse");
  static const file_access own_files;
  return loader{"", own_files}.run(doc.document_element(), node_description::default_node());
}

} // namespace virtactor::drivers::test
