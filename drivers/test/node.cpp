#include "drivers/test/node.hpp"

#include <netdb.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

namespace virtactor::drivers::test {

namespace {

/// Memory page sizes (KiB) of the test host, in the order libvirt lists them.
constexpr uint64_t page_sizes[] = {4, 8, 2048, 1048576};

void put_cell(std::ostringstream& out, size_t index, const numa_cell& cell) {
  out << "        <cell id='" << index << "'>\n"
      << "          <memory unit='KiB'>" << cell.memory << "</memory>\n";
  // Cell 1 has its memory in 8 KiB pages, every other cell in 4 KiB pages;
  // the huge page sizes follow with no free pages.
  uint64_t base = index == 1 ? page_sizes[1] : page_sizes[0];
  out << "          <pages unit='KiB' size='" << base << "'>" << cell.memory / base
      << "</pages>\n";
  for (size_t i = 2; i < std::size(page_sizes); ++i)
    out << "          <pages unit='KiB' size='" << page_sizes[i] << "'>0</pages>\n";
  out << "          <cpus num='" << cell.cpus.size() << "'>\n";
  for (auto& cpu : cell.cpus)
    out << "            <cpu id='" << cpu.id << "' socket_id='" << cpu.socket_id
        << "' die_id='0' core_id='" << cpu.core_id << "' siblings='" << cpu.id << "'/>\n";
  out << "          </cpus>\n"
      << "        </cell>\n";
}

void put_guest(std::ostringstream& out, const char* os) {
  out << "  <guest>\n"
      << "    <os_type>" << os << "</os_type>\n"
      << "    <arch name='i686'>\n"
      << "      <wordsize>32</wordsize>\n"
      << "      <emulator>/usr/bin/test-hv</emulator>\n"
      << "      <domain type='test'/>\n"
      << "    </arch>\n"
      << "    <features>\n"
      << "      <pae/>\n"
      << "      <nonpae/>\n"
      << "    </features>\n"
      << "  </guest>\n\n";
}

} // namespace

node_description node_description::default_node() {
  node_description n;
  for (int32_t c = 0; c < 2; ++c) {
    numa_cell cell;
    cell.memory = static_cast<uint64_t>(c + 1) * 2048 * 1024;
    cell.free_mem = static_cast<uint64_t>(c + 1) * 1024 * 1024;
    for (int32_t i = 0; i < 8; ++i)
      cell.cpus.push_back(cell_cpu{c * 8 + i, c, i});
    n.cells.push_back(std::move(cell));
  }
  return n;
}

node_description node_description::file_node() {
  return node_description{};
}

std::string node_description::capabilities_xml() const {
  std::ostringstream out;
  out << "<capabilities>\n\n"
      << "  <host>\n"
      << "    <cpu>\n"
      << "      <arch>i686</arch>\n"
      << "      <features>\n"
      << "        <pae/>\n"
      << "        <nonpae/>\n"
      << "      </features>\n";
  for (auto size : page_sizes)
    out << "      <pages unit='KiB' size='" << size << "'/>\n";
  out << "    </cpu>\n"
      << "    <power_management/>\n"
      << "    <iommu support='no'/>\n"
      << "    <topology>\n"
      << "      <cells num='" << cells.size() << "'>\n";
  for (size_t i = 0; i < cells.size(); ++i)
    put_cell(out, i, cells[i]);
  out << "      </cells>\n"
      << "    </topology>\n"
      << "    <secmodel>\n"
      << "      <model>" << security_model << "</model>\n"
      << "      <doi>" << security_doi << "</doi>\n"
      << "    </secmodel>\n"
      << "  </host>\n\n";
  put_guest(out, "hvm");
  put_guest(out, "xen");
  out << "</capabilities>\n";
  return out.str();
}

uint64_t node_description::free_memory() const {
  // libvirt sums into an `unsigned int`.
  uint32_t sum = 0;
  for (auto& c : cells)
    sum += static_cast<uint32_t>(c.free_mem);
  return sum;
}

result<std::vector<uint64_t>> node_description::cells_free_memory(int32_t start,
                                                                  int32_t max) const {
  if (start < 0 || static_cast<size_t>(start) >= cells.size())
    return make_virt_error(error_code::invalid_arg, error_domain::test,
                           "invalid argument: Range exceeds available cells");
  std::vector<uint64_t> out;
  for (size_t i = static_cast<size_t>(start); i < cells.size() && out.size() < size_t(max); ++i)
    out.push_back(cells[i].memory);
  return out;
}

const std::string& sysinfo_xml() {
  static const std::string xml = "<sysinfo type='smbios'>\n"
                                 "  <bios>\n"
                                 "    <entry name='vendor'>LENOVO</entry>\n"
                                 "    <entry name='version'>G4ETA1WW (2.61 )</entry>\n"
                                 "    <entry name='date'>05/07/2014</entry>\n"
                                 "    <entry name='release'>2.61</entry>\n"
                                 "  </bios>\n"
                                 "</sysinfo>\n";
  return xml;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0)
    return "localhost";
  std::string name{buf};
  if (name.find('.') != std::string::npos)
    return name;
  addrinfo hints{};
  hints.ai_flags = AI_CANONNAME;
  hints.ai_family = AF_UNSPEC;
  addrinfo* info = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &info) != 0 || !info)
    return name;
  std::string canon = info->ai_canonname ? info->ai_canonname : "";
  freeaddrinfo(info);
  if (canon.empty() || canon == "localhost")
    return name;
  return canon;
}

} // namespace virtactor::drivers::test
