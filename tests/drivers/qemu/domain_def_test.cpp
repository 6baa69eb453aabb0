// The qemu driver's domain definitions against the real libvirtd 9.0 qemu
// driver (data/capture.sh): `virsh define` + `dumpxml --inactive`, the live
// `dumpxml` of the started domain, and the errors of refused documents.
#define BOOST_TEST_MODULE qemu_domain_def
#include <boost/test/unit_test.hpp>

#include <string>

#include "drivers/qemu/domain_def.hpp"
#include "tests/drivers/qemu/xml_test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers;
using namespace virtactor::drivers::qemu::test;

namespace {

/// "CODE DOMAIN\nMESSAGE\n" as capture.sh writes it.
std::string error_text(const virt_error& e) {
  return std::to_string(static_cast<int>(e.code)) + " " +
         std::to_string(static_cast<int>(e.domain)) + "\n" + e.message + "\n";
}

/// The values of a live dumpxml that cannot match, masked in both texts:
/// the domain id, pty numbers, the VNC port chosen by autoport, the uid:gid
/// of the DAC label (libvirt-qemu's on the capturing host), the tap device
/// names (a host-wide counter) and network port UUIDs (random).
std::string mask_live(std::string xml) {
  xml = mask(xml, "(<domain type='[a-z]+') id='[0-9]+'>", "$1 id='ID'>");
  xml = mask(xml, "/dev/pts/[0-9]+", "/dev/pts/N");
  xml = mask(xml, "<graphics type='vnc' port='[0-9]+' autoport='yes'",
             "<graphics type='vnc' port='PORT' autoport='yes'");
  xml = mask(xml, "\\+[0-9]+:\\+[0-9]+", "+UID:+GID");
  xml = mask(xml, "<target dev='vnet[0-9]+'/>", "<target dev='vnetN'/>");
  xml = mask(xml, "portid='[-0-9a-f]+'", "portid='UUID'");
  return xml;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_input_prints_as_virsh_dumpxml_inactive_printed_it) {
  auto files = inputs("domain");
  BOOST_TEST_REQUIRE(files.size() >= 30u);
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto def = qemu::parse_domain(read_text(f), qemu_7_2());
      BOOST_TEST_REQUIRE(def.ok(), (def.ok() ? "" : def.error().message));
      xml::domain_format inactive;
      inactive.inactive = true;
      BOOST_TEST(xml::format_domain(*def, inactive) == read_text(sibling(f, ".out.xml")));
    }
  }
}

BOOST_AUTO_TEST_CASE(libvirts_own_output_prints_as_libvirt_prints_it_again) {
  for (const auto& f : inputs("domain")) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto first = read_text(sibling(f, ".out.xml"));
      auto def = qemu::parse_domain(first, qemu_7_2());
      BOOST_TEST_REQUIRE(def.ok(), (def.ok() ? "" : def.error().message));
      auto again = sibling(f, ".again.xml");
      xml::domain_format inactive;
      inactive.inactive = true;
      BOOST_TEST(xml::format_domain(*def, inactive) ==
                 (std::filesystem::exists(again) ? read_text(again) : first));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_started_domain_prints_as_virsh_dumpxml_printed_it_running) {
  size_t started = 0;
  for (const auto& f : inputs("domain")) {
    auto golden = sibling(f, ".live.xml");
    if (!std::filesystem::exists(golden))
      continue; // define-only input
    ++started;
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto def = qemu::parse_domain(read_text(f), qemu_7_2());
      BOOST_TEST_REQUIRE(def.ok());
      BOOST_TEST_REQUIRE(qemu::check_startable(*def, qemu_7_2()).ok());
      qemu::start_facts facts;
      xml::seclabel_def dac;
      dac.model = "dac";
      dac.label = "+64055:+64055";
      dac.image_label = dac.label;
      facts.seclabel = dac;
      auto live = qemu::live_definition(*def, facts);
      give_taps(live);
      std::map<std::string, std::string> chardevs;
      for (const auto& s : live.devices.serials)
        chardevs[qemu::chardev_id(s.alias)] = "pty:/dev/pts/7";
      qemu::set_chardev_paths(live, chardevs);
      // QMP query-balloon reports the boot size without a guest balloon
      // driver, and libvirt shows what it reports.
      live.set_current_memory(live.memory.max_kib);
      for (auto& g : live.devices.graphics)
        if (g.autoport)
          g.port = 5901;
      xml::domain_format running;
      running.id = 1;
      BOOST_TEST(mask_live(xml::format_domain(live, running)) == mask_live(read_text(golden)));
    }
  }
  BOOST_TEST(started >= 25u);
}

BOOST_AUTO_TEST_CASE(documents_libvirt_refuses_are_refused_with_its_error) {
  auto files = inputs("domain-error");
  BOOST_TEST_REQUIRE(!files.empty());
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto text = read_text(f);
      auto def = qemu::parse_domain(text, qemu_7_2());
      // Refused at define, or (<!-- start-error -->) when started.
      result<void> outcome =
          def.ok() ? qemu::check_startable(*def, qemu_7_2()) : result<void>{def.error()};
      BOOST_TEST_REQUIRE(!outcome.ok());
      BOOST_TEST(error_text(outcome.error()) == read_text(sibling(f, ".err")));
    }
  }
}

BOOST_AUTO_TEST_CASE(what_libvirt_accepts_and_the_driver_does_not_implement_is_refused) {
  // capture.sh checks that libvirt accepts each of these; NAME.err holds
  // virtactor's own message (written by hand).
  auto files = inputs("unsupported");
  BOOST_TEST_REQUIRE(files.size() >= 10u);
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto def = qemu::parse_domain(read_text(f), qemu_7_2());
      BOOST_TEST_REQUIRE(!def.ok());
      BOOST_TEST(static_cast<int>(def.error().code) == 67); // VIR_ERR_CONFIG_UNSUPPORTED
      BOOST_TEST(error_text(def.error()) == read_text(sibling(f, ".err")));
    }
  }
}

BOOST_AUTO_TEST_CASE(kvm_is_refused_at_start_on_a_host_without_it) {
  auto kvm_host = qemu_7_2();
  kvm_host.kvm = true;
  auto text = read_text(data_dir() / "domain-error" / "kvm.xml");
  auto def = qemu::parse_domain(text, kvm_host);
  BOOST_TEST_REQUIRE(def.ok());
  BOOST_TEST(qemu::check_startable(*def, kvm_host).ok());
  auto refused = qemu::check_startable(*def, qemu_7_2());
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(error_text(refused.error()) == read_text(data_dir() / "domain-error" / "kvm.err"));
}

BOOST_AUTO_TEST_CASE(the_test_drivers_options_keep_the_older_subset) {
  // The qemu options parse what the test driver's refuse.
  auto text = read_text(data_dir() / "domain" / "chardev-unix-file.xml");
  BOOST_TEST(qemu::parse_domain(text, qemu_7_2()).ok());
  xml::domain_parse test_like;
  test_like.default_arch = "i686";
  auto def = xml::parse_domain(text, test_like);
  BOOST_TEST_REQUIRE(!def.ok());
  BOOST_TEST(def.error().message.find("is not supported by virtactor") != std::string::npos);
}
