#include "drivers/xml/storage_xml.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <initializer_list>
#include <vector>

#include "drivers/xml/units.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::xml {

namespace {

using names = std::initializer_list<std::string_view>;

constexpr doc_kind pool_doc{"pool", "(storage_pool_definition)", error_domain::storage};
constexpr doc_kind volume_doc{"volume", "(storage_volume_definition)", error_domain::storage};

/// The test driver's size of every pool (`defaultPoolCap`).
constexpr uint64_t test_pool_capacity = 100ull * 1024 * 1024 * 1024;

virt_error storage_error(error_code code, std::string_view msg) {
  return make_error(code, error_domain::storage, msg);
}

template <class List> bool one_of(std::string_view v, const List& list) {
  return std::find(std::begin(list), std::end(list), v) != std::end(list);
}

bool one_of(std::string_view v, names list) {
  return one_of<names>(v, list);
}

/// libvirt's `virFileSanitizePath`: collapse repeated slashes (but keep a
/// leading "//") and drop a trailing slash.
std::string sanitize_path(std::string_view path) {
  std::string out;
  size_t i = 0;
  if (path.starts_with("//") && !path.starts_with("///")) {
    out = "//";
    i = 2;
  }
  for (; i < path.size(); ++i) {
    if (path[i] == '/' && !out.empty() && out.back() == '/')
      continue;
    out += path[i];
  }
  if (out.size() > 1 && out.back() == '/')
    out.pop_back();
  return out;
}

/// `<permissions>` under `target`; nothing when absent or all unset.
result<std::optional<storage_permissions>> parse_perms(pugi::xml_node target) {
  auto node = target.child("permissions");
  if (!node)
    return std::optional<storage_permissions>{};
  storage_permissions perms;
  if (auto mode = child_text(node, "mode")) {
    std::string buf = *mode;
    char* end = nullptr;
    long v = std::strtol(buf.c_str(), &end, 8);
    if (end == buf.c_str() || *end != '\0' || v < 0 || (v & ~0777) != 0)
      return storage_error(error_code::xml_error, "malformed octal mode");
    perms.mode = static_cast<uint32_t>(v);
  }
  auto id = [&](const char* element) -> result<std::optional<int64_t>> {
    auto text = child_text(node, element);
    if (!text)
      return std::optional<int64_t>{};
    auto v = to_ll(*text);
    if (!v || *v < -1 || *v > UINT32_MAX)
      return storage_error(error_code::xml_error, std::string{"malformed "} + element + " element");
    // -1 and its unsigned spelling both mean "not set".
    if (*v == -1 || *v == UINT32_MAX)
      return std::optional<int64_t>{};
    return std::optional<int64_t>{*v};
  };
  VA_XML_TRY(owner, id("owner"));
  VA_XML_TRY(group, id("group"));
  perms.owner = owner;
  perms.group = group;
  perms.label = child_text(node, "label").value_or("");
  if (!perms.mode && !perms.owner && !perms.group && perms.label.empty())
    return std::optional<storage_permissions>{};
  return std::optional<storage_permissions>{perms};
}

void format_perms(xml_writer& w, const std::optional<storage_permissions>& perms) {
  if (!perms)
    return;
  w.open("<permissions>");
  if (perms->mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", *perms->mode);
    w.line(std::string{"<mode>"} + buf + "</mode>");
  }
  if (perms->owner)
    w.line("<owner>" + std::to_string(*perms->owner) + "</owner>");
  if (perms->group)
    w.line("<group>" + std::to_string(*perms->group) + "</group>");
  if (!perms->label.empty())
    w.line("<label>" + escape(perms->label) + "</label>");
  w.close("</permissions>");
}

/// The `<format>` types each modelled pool type accepts, its default first.
std::vector<std::string_view> pool_formats(std::string_view type) {
  if (type == "fs")
    return {"auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf",
            "gfs",  "gfs2", "vfat", "hfs+", "xfs", "ocfs2",   "vmfs"};
  if (type == "netfs")
    return {"auto", "nfs", "glusterfs", "cifs"};
  if (type == "logical")
    return {"lvm2"};
  return {};
}

/// The volume `<format>` types of file-based pools (libvirt's
/// `virStorageFileFormat`, "none" excluded).
constexpr std::string_view file_formats[] = {"raw",  "dir",   "bochs", "cloop", "dmg",   "iso",
                                             "vpc",  "vdi",   "fat",   "vhd",   "ploop", "cow",
                                             "qcow", "qcow2", "qed",   "vmdk"};

} // namespace

result<uint64_t> parse_size(std::string_view value, std::string_view unit,
                            std::string_view element) {
  auto n = to_ull(value);
  if (!n)
    return storage_error(error_code::xml_error, "malformed " + std::string{element} + " element");
  return scale_value(*n, unit, 1, LLONG_MAX);
}

result<pool_def> parse_pool(std::string_view xml, const pool_parse& opts) {
  pugi::xml_document doc;
  VA_XML_CHECK(load_document(doc, xml, pool_doc));
  auto root = doc.document_element();
  pool_def def;
  VA_XML_TRY(type, prop_enum(root, "type",
                             {"dir", "fs", "netfs", "logical", "disk", "iscsi", "iscsi-direct",
                              "scsi", "mpath", "rbd", "sheepdog", "gluster", "zfs", "vstorage"},
                             true));
  // `type` is set: the attribute is required.
  def.type = type.value_or("");
  if (!one_of(def.type, {"dir", "fs", "netfs", "logical"}))
    return storage_error(error_code::config_unsupported,
                         "pool type '" + def.type + "' is not supported by virtactor");
  auto source = root.child("source");
  auto& src = def.source;
  auto formats = pool_formats(def.type);
  if (!formats.empty()) {
    auto format = attr_of(source.child("format"), "type");
    if (format) {
      if (!one_of(*format, formats))
        return storage_error(error_code::config_unsupported, "unknown pool format type " + *format);
      src.format = *format;
    } else {
      src.format = std::string{formats.front()};
    }
  }
  // Every pool type reads the hosts; only netfs pools keep them.
  for (auto host : source.children("host")) {
    auto name = attr_of(host, "name");
    if (!name)
      return storage_error(error_code::xml_error, "missing storage pool host name");
    if (def.type == "netfs")
      src.hosts.push_back(*name);
  }
  if (def.type == "netfs")
    src.dir = attr_of(source.child("dir"), "path").value_or("");
  if (def.type == "fs" || def.type == "logical")
    for (auto dev : source.children("device"))
      src.devices.push_back(attr_of(dev, "path").value_or(""));
  if (def.type == "logical")
    src.name = child_text(source, "name").value_or("");
  auto name = child_text(root, "name");
  if (!name && def.type == "logical" && !src.name.empty())
    name = src.name;
  if (!name)
    return storage_error(error_code::xml_error, "missing pool source name element");
  def.name = *name;
  if (def.type == "logical" && src.name.empty())
    src.name = def.name;
  if (def.name.find('/') != std::string::npos)
    return storage_error(error_code::xml_error, "name " + def.name + " cannot contain '/'");
  VA_XML_TRY(uuid, uuid_element(root, opts.uuid_if_absent,
                                storage_error(error_code::xml_error, "malformed uuid element")));
  def.uuid = uuid;
  if (def.type == "fs" && src.devices.empty())
    return storage_error(error_code::xml_error, "missing storage pool source device name");
  if (def.type == "netfs") {
    if (src.hosts.empty())
      return storage_error(error_code::xml_error, "missing storage pool source host name");
    if (src.dir.empty())
      return storage_error(error_code::xml_error, "missing storage pool source path");
  }
  auto target = root.child("target");
  if (def.type == "logical") {
    def.target_path = "/dev/" + src.name;
  } else {
    auto path = child_text(target, "path");
    if (!path)
      return storage_error(error_code::xml_error, "missing storage pool target path");
    def.target_path = sanitize_path(*path);
  }
  VA_XML_TRY(perms, parse_perms(target));
  def.target_perms = perms;
  // The test driver gives every pool the same fixed size.
  def.capacity = test_pool_capacity;
  def.allocation = 0;
  def.available = test_pool_capacity;
  return def;
}

std::string format_pool(const pool_def& def) {
  xml_writer w;
  w.open("<pool" + attr("type", def.type) + ">");
  w.line("<name>" + escape(def.name) + "</name>");
  w.line("<uuid>" + format_uuid(def.uuid) + "</uuid>");
  w.line("<capacity unit='bytes'>" + std::to_string(def.capacity) + "</capacity>");
  w.line("<allocation unit='bytes'>" + std::to_string(def.allocation) + "</allocation>");
  w.line("<available unit='bytes'>" + std::to_string(def.available) + "</available>");
  w.open("<source>");
  const auto& src = def.source;
  for (const auto& host : src.hosts)
    w.line("<host" + attr("name", host) + "/>");
  for (const auto& dev : src.devices)
    w.line("<device" + attr("path", dev) + "/>");
  if (!src.dir.empty())
    w.line("<dir" + attr("path", src.dir) + "/>");
  if (!src.name.empty())
    w.line("<name>" + escape(src.name) + "</name>");
  if (!src.format.empty())
    w.line("<format" + attr("type", src.format) + "/>");
  w.close("</source>");
  w.open("<target>");
  w.line("<path>" + escape(def.target_path) + "</path>");
  format_perms(w, def.target_perms);
  w.close("</target>");
  w.close("</pool>");
  return std::move(w).str();
}

result<volume_def> parse_volume(std::string_view xml, std::string_view pool_type) {
  pugi::xml_document doc;
  VA_XML_CHECK(load_document(doc, xml, volume_doc));
  auto root = doc.document_element();
  volume_def def;
  auto name = child_text(root, "name");
  if (!name)
    return storage_error(error_code::xml_error, "missing volume name element");
  def.name = *name;
  if (auto type = attr_of(root, "type")) {
    if (!one_of(*type, {"file", "block", "dir", "network", "netdir", "ploop"}))
      return storage_error(error_code::config_unsupported, "unknown volume type '" + *type + "'");
    def.type = *type;
  }
  auto capacity = child_text(root, "capacity");
  if (!capacity)
    return storage_error(error_code::xml_error, "missing capacity element");
  VA_XML_TRY(
      cap, parse_size(*capacity, attr_of(root.child("capacity"), "unit").value_or(""), "capacity"));
  def.capacity = cap;
  if (auto allocation = child_text(root, "allocation")) {
    // libvirt names the capacity element in this message too.
    VA_XML_TRY(alloc,
               parse_size(*allocation, attr_of(root.child("allocation"), "unit").value_or(""),
                          "capacity"));
    def.allocation = alloc;
    def.has_allocation = true;
  } else {
    def.allocation = def.capacity;
  }
  auto target = root.child("target");
  bool file_pool = one_of(pool_type, {"dir", "fs", "netfs"});
  if (file_pool) {
    def.format = "raw";
    if (auto format = attr_of(target.child("format"), "type")) {
      if (!one_of(*format, file_formats))
        return storage_error(error_code::config_unsupported,
                             "unknown volume format type " + *format);
      def.format = *format;
    }
  }
  VA_XML_TRY(perms, parse_perms(target));
  def.target_perms = perms;
  // Key and path belong to the pool that creates the volume.
  return def;
}

result<volume_def> parse_volume(std::string_view xml, const pool_def& pool) {
  auto def = parse_volume(xml, std::string_view{pool.type});
  if (!def)
    return def;
  def->target_path = pool.target_path + "/" + def->name;
  def->key = def->target_path;
  return def;
}

std::string format_volume(const volume_def& def) {
  xml_writer w;
  w.open("<volume" + attr("type", def.type) + ">");
  w.line("<name>" + escape(def.name) + "</name>");
  if (!def.key.empty())
    w.line("<key>" + escape(def.key) + "</key>");
  w.line("<capacity unit='bytes'>" + std::to_string(def.capacity) + "</capacity>");
  w.line("<allocation unit='bytes'>" + std::to_string(def.allocation) + "</allocation>");
  w.open("<target>");
  if (!def.target_path.empty())
    w.line("<path>" + escape(def.target_path) + "</path>");
  if (!def.format.empty())
    w.line("<format" + attr("type", def.format) + "/>");
  format_perms(w, def.target_perms);
  w.close("</target>");
  w.close("</volume>");
  return std::move(w).str();
}

} // namespace virtactor::drivers::xml
