// Unit tests of the XML model: UUIDs, units, generated values, setters and
// the print options, which the golden files cannot pin down.
#define BOOST_TEST_MODULE xml_unit
#include <boost/test/unit_test.hpp>

#include <random>
#include <set>
#include <string>

#include "drivers/xml/domain_xml.hpp"
#include "drivers/xml/network_xml.hpp"
#include "drivers/xml/storage_xml.hpp"
#include "drivers/xml/units.hpp"
#include "drivers/xml/uuid.hpp"
#include "tests/drivers/xml/xml_test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers::xml;
using virtactor::drivers::xml::test::parse_domain;

namespace {

const std::string minimal =
    "<domain type='test'><name>d</name><memory>1024</memory><os><type>hvm</type></os>"
    "</domain>";

std::string with_devices(const std::string& devices) {
  return "<domain type='test'><name>d</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
         "<memory>1024</memory><os><type>hvm</type></os><devices>" +
         devices + "</devices></domain>";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_uuid_parses_with_or_without_dashes_and_prints_canonically) {
  auto canonical = parse_uuid("6695eb01-f6a4-8304-79aa-97f2502e193f");
  BOOST_TEST_REQUIRE(canonical.has_value());
  for (const char* form :
       {"6695eb01f6a4830479aa97f2502e193f", "  6695EB01-F6A4-8304-79AA-97F2502E193F\n",
        "66-95-eb-01 f6a4830479aa97f2502e193f"}) {
    BOOST_TEST_CONTEXT(form) {
      auto u = parse_uuid(form);
      BOOST_TEST_REQUIRE(u.has_value());
      BOOST_TEST((*u == *canonical));
    }
  }
  BOOST_TEST(format_uuid(*canonical) == "6695eb01-f6a4-8304-79aa-97f2502e193f");
}

BOOST_AUTO_TEST_CASE(a_malformed_uuid_is_refused) {
  for (const char* bad :
       {"", "6695eb01-f6a4-8304-79aa-97f2502e193", "6695eb01-f6a4-8304-79aa-97f2502e193f0",
        "6695eb01-f6a4-8304-79aa-97f2502e193g", "6-695eb01f6a4830479aa97f2502e193f",
        "6695eb01f6a4830479aa97f2502e193f x"}) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(!parse_uuid(bad).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_random_uuid_is_version_4_and_fresh_each_time) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto u = random_uuid();
    BOOST_TEST((u[6] >> 4) == 4);
    BOOST_TEST((u[8] & 0xc0) == 0x80);
    seen.insert(format_uuid(u));
  }
  BOOST_TEST(seen.size() == 64u);
}

BOOST_AUTO_TEST_CASE(unit_suffixes_scale_as_libvirts) {
  struct row {
    const char* unit;
    uint64_t scale;
  };
  for (auto [unit, scale] :
       {row{"", 1024}, row{"b", 1}, row{"Bytes", 1}, row{"k", 1024}, row{"KiB", 1024},
        row{"KB", 1000}, row{"M", 1048576}, row{"mib", 1048576}, row{"MB", 1000000},
        row{"GiB", 1073741824}, row{"GB", 1000000000}, row{"T", 1099511627776},
        row{"PB", 1000000000000000}, row{"EiB", 1152921504606846976}}) {
    BOOST_TEST_CONTEXT(unit) {
      auto s = unit_scale(unit, 1024);
      BOOST_TEST_REQUIRE(s.has_value());
      BOOST_TEST(*s == scale);
    }
  }
  for (const char* bad : {"x", "KiBB", "Kb2", "iB", "kbit"})
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(!unit_scale(bad, 1).has_value());
    }
}

BOOST_AUTO_TEST_CASE(sizes_refuse_bad_numbers_units_and_overflow) {
  BOOST_TEST(*parse_size("10", "M") == 10485760u);
  BOOST_TEST(*parse_size(" +7", "") == 7u);
  auto bad_number = parse_size("1.5", "");
  BOOST_TEST_REQUIRE(!bad_number.ok());
  BOOST_TEST(bad_number.error().message == "XML error: malformed capacity element");
  auto bad_unit = parse_size("1", "Q");
  BOOST_TEST_REQUIRE(!bad_unit.ok());
  BOOST_TEST((bad_unit.error().code == error_code::invalid_arg));
  BOOST_TEST(bad_unit.error().message == "invalid argument: unknown suffix 'Q'");
  auto overflow = parse_size("8", "EiB");
  BOOST_TEST_REQUIRE(!overflow.ok());
  BOOST_TEST((overflow.error().code == error_code::overflow));
  BOOST_TEST(overflow.error().message == "numerical overflow: value too large: 8EiB");
}

BOOST_AUTO_TEST_CASE(a_domain_without_uuid_gets_a_random_one_or_the_callers) {
  auto a = parse_domain(minimal);
  auto b = parse_domain(minimal);
  BOOST_TEST_REQUIRE(a.ok());
  BOOST_TEST_REQUIRE(b.ok());
  BOOST_TEST((a->uuid != b->uuid));
  BOOST_TEST((a->uuid[6] >> 4) == 4);
  auto opts = virtactor::drivers::test::parse_options();
  opts.uuid_if_absent = *parse_uuid("11111111-2222-3333-4444-555555555555");
  auto c = parse_domain(minimal, opts);
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(format_uuid(c->uuid) == "11111111-2222-3333-4444-555555555555");
  // A uuid in the document wins over the caller's.
  auto d = parse_domain(with_devices(""), opts);
  BOOST_TEST_REQUIRE(d.ok());
  BOOST_TEST(format_uuid(d->uuid) == "6695eb01-f6a4-8304-79aa-97f2502e193f");
}

BOOST_AUTO_TEST_CASE(networks_and_pools_without_uuid_take_the_callers) {
  network_parse nopts;
  nopts.uuid_if_absent = *parse_uuid("11111111-2222-3333-4444-555555555555");
  auto net = parse_network("<network><name>n</name></network>", nopts);
  BOOST_TEST_REQUIRE(net.ok());
  BOOST_TEST(format_uuid(net->uuid) == "11111111-2222-3333-4444-555555555555");
  pool_parse popts;
  popts.uuid_if_absent = nopts.uuid_if_absent;
  auto pool =
      parse_pool("<pool type='dir'><name>p</name><target><path>/p</path></target></pool>", popts);
  BOOST_TEST_REQUIRE(pool.ok());
  BOOST_TEST(format_uuid(pool->uuid) == "11111111-2222-3333-4444-555555555555");
}

BOOST_AUTO_TEST_CASE(an_interface_without_mac_gets_a_random_unicast_qemu_mac) {
  auto def = parse_domain(
      with_devices("<interface type='network'><source network='default'/></interface>"
                   "<interface type='network'><source network='default'/></interface>"));
  BOOST_TEST_REQUIRE(def.ok());
  const auto& nets = def->devices.interfaces;
  BOOST_TEST_REQUIRE(nets.size() == 2u);
  for (const auto& n : nets) {
    BOOST_TEST(n.mac.size() == 17u);
    BOOST_TEST(n.mac.substr(0, 9) == "52:54:00:");
  }
  BOOST_TEST(nets[0].mac != nets[1].mac);
  BOOST_TEST(nets[0].target_dev == "testnet0");
  BOOST_TEST(nets[1].target_dev == "testnet1");
}

BOOST_AUTO_TEST_CASE(interface_names_are_left_alone_when_the_caller_says_so) {
  // The XML model names no interface itself: naming is a driver's choice.
  auto opts = virtactor::drivers::test::parse_options();
  auto def =
      parse_domain(with_devices("<interface type='network'><mac address='52:54:00:00:00:01'/>"
                                "<source network='default'/><target dev='vnet0'/></interface>"),
                   opts);
  BOOST_TEST_REQUIRE(def.ok());
  // The generated name "vnet0" is dropped; no test driver name replaces it.
  BOOST_TEST(def->devices.interfaces.at(0).target_dev == "");
  BOOST_TEST(!contains(format_domain(*def), "<target dev="));
}

BOOST_AUTO_TEST_CASE(memory_and_vcpu_setters_keep_current_within_maximum) {
  auto def = parse_domain(
      "<domain type='test'><name>d</name><memory unit='MiB'>512</memory><vcpu current='2'>4</vcpu>"
      "<os><type>hvm</type></os></domain>");
  BOOST_TEST_REQUIRE(def.ok());
  def->set_max_memory(1048576);
  BOOST_TEST(def->memory.max_kib == 1048576u);
  BOOST_TEST(def->memory.current_kib == 524288u);
  def->set_current_memory(262144);
  def->set_max_memory(131072);
  BOOST_TEST(def->memory.current_kib == 131072u);
  def->set_max_vcpus(8);
  BOOST_TEST(def->vcpu.current == 2u);
  def->set_vcpus(8);
  def->set_max_vcpus(3);
  BOOST_TEST(def->vcpu.current == 3u);
  def->set_name("renamed");
  def->set_uuid(*parse_uuid("11111111-2222-3333-4444-555555555555"));
  auto text = format_domain(*def);
  BOOST_TEST(contains(text, "<name>renamed</name>"));
  BOOST_TEST(contains(text, "<uuid>11111111-2222-3333-4444-555555555555</uuid>"));
  BOOST_TEST(contains(text, "<memory unit='KiB'>131072</memory>"));
  BOOST_TEST(contains(text, "<currentMemory unit='KiB'>131072</currentMemory>"));
  BOOST_TEST(contains(text, "<vcpu placement='static'>3</vcpu>"));
  def->set_vcpus(1);
  BOOST_TEST(contains(format_domain(*def), "<vcpu placement='static' current='1'>3</vcpu>"));
}

BOOST_AUTO_TEST_CASE(the_id_is_printed_only_for_a_live_definition) {
  auto def = parse_domain(minimal);
  BOOST_TEST_REQUIRE(def.ok());
  BOOST_TEST(format_domain(*def).starts_with("<domain type='test'>\n"));
  domain_format live;
  live.id = 7;
  BOOST_TEST(format_domain(*def, live).starts_with("<domain type='test' id='7'>\n"));
  live.inactive = true;
  BOOST_TEST(format_domain(*def, live).starts_with("<domain type='test'>\n"));
}

BOOST_AUTO_TEST_CASE(a_graphics_password_is_printed_only_when_secure) {
  auto def = parse_domain(with_devices("<graphics type='vnc' passwd='s3cret'/>"));
  BOOST_TEST_REQUIRE(def.ok());
  BOOST_TEST(!contains(format_domain(*def), "s3cret"));
  domain_format secure;
  secure.secure = true;
  BOOST_TEST(contains(format_domain(*def, secure), " passwd='s3cret'"));
}

BOOST_AUTO_TEST_CASE(an_inactive_print_drops_a_chosen_vnc_port) {
  auto def = parse_domain(with_devices("<graphics type='vnc'/>"));
  BOOST_TEST_REQUIRE(def.ok());
  def->devices.graphics.at(0).port = 5900; // as a driver would at start
  domain_format live;
  live.id = 3;
  BOOST_TEST(
      contains(format_domain(*def, live), "<graphics type='vnc' port='5900' autoport='yes'>"));
  live.inactive = true;
  BOOST_TEST(contains(format_domain(*def, live), "<graphics type='vnc' port='-1' autoport='yes'>"));
}

BOOST_AUTO_TEST_CASE(text_is_escaped_in_elements_and_attributes) {
  auto def = parse_domain(
      "<domain type='test'><name>a&amp;b&lt;c&gt;'\"</name><memory>1</memory>"
      "<os><type>hvm</type></os><devices><disk type='file'><source file=\"/x'&quot;&amp;.img\"/>"
      "<target dev='vda'/></disk></devices></domain>");
  BOOST_TEST_REQUIRE(def.ok());
  BOOST_TEST(def->name == "a&b<c>'\"");
  auto text = format_domain(*def);
  BOOST_TEST(contains(text, "<name>a&amp;b&lt;c&gt;&apos;&quot;</name>"));
  BOOST_TEST(contains(text, "<source file='/x&apos;&quot;&amp;.img'/>"));
}

BOOST_AUTO_TEST_CASE(characters_xml_forbids_are_refused_not_dropped_from_a_name) {
  // fuzz_xml: a name "a\x01b" (or "a&#1;b") parsed, printed as "ab" (the
  // escaping drops what XML cannot hold) and came back as another domain; a
  // name of only "\x01" came back as none. libxml2 refuses both.
  auto named = [](const std::string& name) {
    return "<domain type='test'><name>" + name +
           "</name><memory>1024</memory><os><type>hvm</type></os></domain>";
  };
  for (std::string bad : {"a\x01" "b", "a&#1;b", "\x1f", "&#x1F;", "&#0;", "a\xef\xbf\xbf"}) {
    BOOST_TEST_CONTEXT(bad) {
      auto def = parse_domain(named(bad));
      BOOST_TEST_REQUIRE(!def.ok());
      BOOST_TEST((def.error().code == error_code::xml_detail));
      BOOST_TEST((def.error().domain == error_domain::domain));
    }
  }
  auto raw = parse_domain(named("a\x01" "b"));
  BOOST_TEST(raw.error().message ==
             "(domain_definition):1: PCDATA invalid Char value 1\n" + named("a\x01" "b") +
                 "\n" + std::string(27, '-') + "^");
  auto network = parse_network("<network><name>&#1;</name></network>");
  BOOST_TEST_REQUIRE(!network.ok());
  BOOST_TEST(network.error().message.starts_with(
      "(network_definition):1: xmlParseCharRef: invalid xmlChar value 1\n"));
  // What XML allows stays, and prints back to the same name: DEL, a
  // non-ASCII letter, a tab by reference.
  for (std::string good : {"a\x7f" "b", "\xc3\xa9t\xc3\xa9", "a&#9;b"}) {
    BOOST_TEST_CONTEXT(good) {
      auto def = parse_domain(named(good));
      BOOST_TEST_REQUIRE(def.ok());
      auto again = parse_domain(format_domain(*def));
      BOOST_TEST_REQUIRE(again.ok());
      BOOST_TEST(again->name == def->name);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_far_disk_name_adds_every_controller_up_to_its_own) {
  // libvirt 9.0 defines "sdzzz" on scsi with controllers 0 to 2611, each
  // once (fuzz_xml found the lookup per index quadratic).
  auto def = parse_domain(
      "<domain type='test'><name>big</name><memory>1024</memory><os><type>hvm</type></os>"
      "<devices><controller type='scsi' index='5'/><disk type='file' device='disk'>"
      "<source file='/x.img'/><target dev='sdzzz' bus='scsi'/></disk></devices></domain>");
  BOOST_TEST_REQUIRE(def.ok());
  std::set<uint32_t> scsi;
  size_t count = 0;
  for (const auto& c : def->devices.controllers)
    if (c.type == "scsi") {
      scsi.insert(c.index);
      ++count;
    }
  BOOST_TEST(count == 2612u);
  BOOST_TEST(scsi.size() == 2612u);
  BOOST_TEST(*scsi.rbegin() == 2611u);
}

BOOST_AUTO_TEST_CASE(a_disk_needing_billions_of_controllers_is_refused_not_built) {
  auto doc = [](const std::string& disk) {
    return "<domain type='test'><name>huge</name><memory>1024</memory><os><type>hvm</type>"
           "</os><devices><disk type='file' device='disk'><source file='/x.img'/>" +
           disk + "</disk></devices></domain>";
  };
  auto explicit_address = parse_domain(
      doc("<target dev='sda' bus='scsi'/><address type='drive' controller='2000000000'/>"));
  BOOST_TEST_REQUIRE(!explicit_address.ok());
  BOOST_TEST(explicit_address.error().code == error_code::config_unsupported);
  BOOST_TEST(explicit_address.error().message ==
             "unsupported configuration: disk 'sda' needs drive controller 2000000000, above "
             "the limit of 4095");
  // 'fdbmtu' on fdc: libvirt would add 22,241 controllers.
  auto far_name = parse_domain(doc("<target dev='fdbmtu' bus='fdc'/>"));
  BOOST_TEST_REQUIRE(!far_name.ok());
  BOOST_TEST(far_name.error().message.find("needs drive controller 22240") != std::string::npos);
  // The bound itself is still built.
  auto at_bound = parse_domain(
      doc("<target dev='sda' bus='scsi'/><address type='drive' controller='4095'/>"));
  BOOST_TEST_REQUIRE(at_bound.ok());
  BOOST_TEST(at_bound->devices.controllers.size() >= 4096u);
}

BOOST_AUTO_TEST_CASE(a_nul_byte_ends_the_document_as_in_libvirts_c_strings) {
  std::string doc = "<domain type='test'><name>a";
  doc += '\0';
  doc += "b</name><memory>1024</memory><os><type>hvm</type></os></domain>";
  auto def = parse_domain(doc);
  BOOST_TEST_REQUIRE(!def.ok());
  BOOST_TEST(def.error().message.starts_with(
      "(domain_definition):1: Premature end of data in tag name line 1\n"
      "<domain type='test'><name>a\n"));
}

BOOST_AUTO_TEST_CASE(a_volume_takes_key_and_path_from_its_pool) {
  pool_def pool;
  pool.type = "dir";
  pool.target_path = "/srv/pool";
  auto v = parse_volume("<volume><name>v.img</name><key>k</key><capacity unit='KiB'>4</capacity>"
                        "<target><path>/elsewhere</path></target></volume>",
                        pool);
  BOOST_TEST_REQUIRE(v.ok());
  BOOST_TEST(v->key == "/srv/pool/v.img");
  BOOST_TEST(v->target_path == "/srv/pool/v.img");
  BOOST_TEST(v->capacity == 4096u);
  BOOST_TEST(v->allocation == 4096u);
  BOOST_TEST(!v->has_allocation);
  BOOST_TEST(v->format == "raw");
  auto bare = parse_volume("<volume><name>v</name><capacity>1</capacity></volume>");
  BOOST_TEST_REQUIRE(bare.ok());
  BOOST_TEST(bare->key.empty());
  BOOST_TEST(!contains(format_volume(*bare), "<key>"));
}

BOOST_AUTO_TEST_CASE(a_pool_gets_the_test_drivers_fixed_size) {
  auto pool = parse_pool("<pool type='dir'><name>p</name><target><path>/p/</path></target></pool>");
  BOOST_TEST_REQUIRE(pool.ok());
  BOOST_TEST(pool->capacity == 107374182400u);
  BOOST_TEST(pool->allocation == 0u);
  BOOST_TEST(pool->available == 107374182400u);
  BOOST_TEST(pool->target_path == "/p");
}

BOOST_AUTO_TEST_CASE(huge_vcpu_counts_are_refused_with_a_clear_error) {
  auto def = parse_domain("<domain type='test'><name>d</name><memory>1</memory><vcpu>4000000</vcpu>"
                          "<os><type>hvm</type></os></domain>");
  BOOST_TEST_REQUIRE(!def.ok());
  BOOST_TEST((def.error().code == error_code::config_unsupported));
  BOOST_TEST(
      def.error().message ==
      "unsupported configuration: maximum vCPU count 4000000 exceeds the supported limit 16384");
  auto negative = parse_domain("<domain type='test'><name>d</name><memory>1</memory><vcpu>-2</vcpu>"
                               "<os><type>hvm</type></os></domain>");
  BOOST_TEST_REQUIRE(!negative.ok());
  BOOST_TEST(negative.error().message == "XML error: maximum vcpus count must be an integer");
}

BOOST_AUTO_TEST_CASE(devices_outside_the_subset_are_refused_by_name) {
  struct row {
    const char* devices;
    const char* message;
  };
  for (auto [devices, message] :
       {row{"<disk type='network'><source protocol='nbd' name='x'/><target dev='vda'/></disk>",
            "unsupported configuration: disk type 'network' is not supported by virtactor"},
        row{"<interface type='direct'><source dev='eth0'/></interface>",
            "unsupported configuration: interface type 'direct' is not supported by virtactor"},
        row{"<graphics type='sdl'/>",
            "unsupported configuration: graphics type 'sdl' is not supported by virtactor"},
        row{"<serial type='file'><source path='/tmp/x'/></serial>",
            "unsupported configuration: character device type 'file' is not supported by "
            "virtactor"}}) {
    BOOST_TEST_CONTEXT(devices) {
      auto def = parse_domain(with_devices(devices));
      BOOST_TEST_REQUIRE(!def.ok());
      BOOST_TEST((def.error().code == error_code::config_unsupported));
      BOOST_TEST((def.error().domain == error_domain::domain));
      BOOST_TEST(def.error().message == message);
    }
  }
}

BOOST_AUTO_TEST_CASE(libxml2_style_errors_name_the_line_of_the_fault) {
  auto def =
      parse_domain("<domain type='test'>\n  <name>x</name>\n  <memory>1</memory>\n</domian>\n");
  BOOST_TEST_REQUIRE(!def.ok());
  BOOST_TEST((def.error().code == error_code::xml_detail));
  BOOST_TEST((def.error().domain == error_domain::domain));
  BOOST_TEST(def.error().message.starts_with("(domain_definition):4: Opening and ending tag "
                                             "mismatch: domain line 1 and domian\n</domian>\n"));
}

BOOST_AUTO_TEST_CASE(deeply_nested_text_is_read_without_recursion) {
  // libvirt reads a title as all the text below it; a million levels of
  // nesting must neither overflow the stack nor lose the text.
  std::string open, close;
  for (int i = 0; i < 1000000; ++i) {
    open += "<b>";
    close += "</b>";
  }
  auto def = parse_domain("<domain type='test'><name>d</name><title>x" + open + "y" + close +
                          "z</title><memory>1</memory><os><type>hvm</type></os></domain>");
  BOOST_TEST_REQUIRE(def.ok());
  BOOST_TEST(def->title.value_or("") == "xyz");
}

BOOST_AUTO_TEST_CASE(mutated_documents_fail_cleanly_or_print_parseable_xml) {
  // A small deterministic mutation fuzzer over the golden inputs: bytes cut,
  // replaced, duplicated and XML-ish tokens inserted. Nothing may crash, and
  // whatever is accepted must print a document that parses again.
  std::vector<std::pair<std::string, std::string>> seeds;
  for (std::string dir : {"domain", "network", "pool", "volume", "domain-error", "network-error"})
    for (const auto& f : test::inputs(dir))
      seeds.emplace_back(dir, test::read_text(f));
  BOOST_TEST_REQUIRE(!seeds.empty());
  static constexpr std::string_view tokens[] = {"<",
                                                ">",
                                                "/",
                                                "'",
                                                "\"",
                                                "&",
                                                "&amp;",
                                                "&#",
                                                "]]>",
                                                "<![CDATA[",
                                                "<!--",
                                                "-->",
                                                "=",
                                                " ",
                                                "\n",
                                                "0",
                                                "-1",
                                                "99999999999999999999",
                                                "zz",
                                                "<devices>",
                                                "</devices>",
                                                "<disk>",
                                                "<target dev='vda'/>",
                                                "<address type='pci'/>",
                                                "<vcpu>",
                                                "^",
                                                ",",
                                                "unit='EiB'",
                                                "<ip address='1.1.1.1'>",
                                                "<dhcp>",
                                                "<range start='1.1.1.2' end='1.1.1.3'/>"};
  std::mt19937 rng{7};
  auto pool = test::default_pool();
  size_t accepted = 0, reparse_failures = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const auto& [dir, text] = seeds[rng() % seeds.size()];
    std::string s = text;
    for (int m = 0, n = 1 + static_cast<int>(rng() % 4); m < n && !s.empty(); ++m) {
      size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s.erase(pos, 1 + rng() % 8);
          break;
        case 1:
          s.insert(pos, tokens[rng() % std::size(tokens)]);
          break;
        case 2:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        default:
          s.insert(pos, s.substr(rng() % s.size(), rng() % 40));
          break;
      }
    }
    bool ok = false, again = true;
    if (dir.starts_with("network")) {
      auto def = parse_network(s);
      if ((ok = def.ok()))
        again = parse_network(format_network(*def)).ok();
    } else if (dir == "pool") {
      auto def = parse_pool(s);
      if ((ok = def.ok()))
        again = parse_pool(format_pool(*def)).ok();
    } else if (dir == "volume") {
      auto def = parse_volume(s, pool);
      if ((ok = def.ok()))
        again = parse_volume(format_volume(*def), pool).ok();
    } else {
      auto def = parse_domain(s);
      domain_format secure;
      secure.secure = true;
      if ((ok = def.ok()))
        again = parse_domain(format_domain(*def, secure)).ok();
    }
    accepted += ok ? 1 : 0;
    reparse_failures += again ? 0 : 1;
  }
  BOOST_TEST(reparse_failures == 0u);
  BOOST_TEST(accepted > 100u); // the mutations do not all break the documents
}
