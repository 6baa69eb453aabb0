// Emulator capabilities: parsing QEMU's -version and -machine help, machine
// aliases, the per-binary cache, and the installed QEMU when there is one.
#define BOOST_TEST_MODULE qemu_capabilities
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "drivers/qemu/capabilities.hpp"
#include "tests/interop/harness.hpp"

using namespace virtactor;
using namespace virtactor::qemu;
namespace fs = std::filesystem;

namespace {

// Excerpt of QEMU 7.2's `-machine help`.
const char* machine_help = R"(Supported machines are:
microvm              microvm (i386)
pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)
pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)
pc-i440fx-7.1        Standard PC (i440FX + PIIX, 1996)
pc-i440fx-1.4        Standard PC (i440FX + PIIX, 1996) (deprecated)
q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)
pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)
isapc                ISA-only PC
none                 empty machine
x-remote             Experimental remote machine
)";

/// A fake emulator: a script answering -version and -machine help.
void write_fake(const fs::path& p, const std::string& version, const std::string& machine) {
  std::ofstream out(p);
  out << "#!/bin/sh\n"
      << "case \"$1\" in\n"
      << "  -version) echo 'QEMU emulator version " << version << " (fake build)';\n"
      << "            echo 'Copyright (c) 2003-2022 Fabrice Bellard';;\n"
      << "  -machine) printf 'Supported machines are:\\n" << machine
      << "                   Fake PC (alias of " << machine << "-1.0)\\n" << machine
      << "-1.0             Fake PC (default)\\n';;\n"
      << "  *) exit 1;;\n"
      << "esac\n";
  out.close();
  fs::permissions(p, fs::perms::owner_all);
}

} // namespace

BOOST_AUTO_TEST_CASE(the_version_line_gives_libvirts_version_number_and_the_package) {
  emulator_caps c;
  BOOST_TEST_REQUIRE(parse_version("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n"
                                   "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n",
                                   c)
                       .ok());
  BOOST_TEST(c.version == 7'002'022u);
  BOOST_TEST(c.version_text == "7.2.22");
  BOOST_TEST(c.package == "Debian 1:7.2+dfsg-7+deb12u18+b3");
  BOOST_TEST(parse_version("QEMU emulator version 10.1.0\n", c).ok());
  BOOST_TEST(c.version == 10'001'000u);
  BOOST_TEST(c.package == "");
  for (auto bad : {"", "hello", "QEMU emulator version x.y", "QEMU emulator version 7",
                   "QEMU emulator version 7.1000.0", "QEMU emulator version 99999999.1.1"}) {
    auto r = parse_version(bad, c);
    BOOST_TEST_REQUIRE(!r.ok(), bad);
    BOOST_TEST(r.error().message.starts_with("internal error: cannot parse QEMU version"));
  }
}

BOOST_AUTO_TEST_CASE(machine_help_gives_types_aliases_default_and_deprecation) {
  auto m = parse_machines(machine_help);
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->size() == 8u); // aliases are not machines of their own
  emulator_caps c;
  c.machines = *m;
  BOOST_TEST((c.resolve_machine("pc") == std::optional<std::string>{"pc-i440fx-7.2"}));
  BOOST_TEST((c.resolve_machine("q35") == std::optional<std::string>{"pc-q35-7.2"}));
  BOOST_TEST((c.resolve_machine("pc-i440fx-7.1") == std::optional<std::string>{"pc-i440fx-7.1"}));
  BOOST_TEST((c.resolve_machine("none") == std::optional<std::string>{"none"}));
  BOOST_TEST(!c.resolve_machine("pc-i440fx-99.0").has_value());
  BOOST_TEST(!c.resolve_machine("").has_value());
  BOOST_TEST(c.default_machine() == "pc-i440fx-7.2");
  auto find = [&](const std::string& n) {
    for (auto& x : *m)
      if (x.name == n)
        return x;
    BOOST_FAIL("no machine " << n);
    return machine_type{};
  };
  BOOST_TEST(find("pc-i440fx-7.2").description == "Standard PC (i440FX + PIIX, 1996)");
  BOOST_TEST(find("pc-i440fx-7.2").alias == "pc");
  BOOST_TEST(find("pc-i440fx-7.2").is_default);
  BOOST_TEST(!find("pc-i440fx-7.2").deprecated);
  BOOST_TEST(find("pc-i440fx-1.4").deprecated);
  BOOST_TEST(find("pc-i440fx-1.4").description == "Standard PC (i440FX + PIIX, 1996)");
  BOOST_TEST(find("microvm").description == "microvm (i386)");
  BOOST_TEST(find("isapc").description == "ISA-only PC");
  BOOST_TEST(!parse_machines("").ok());
  BOOST_TEST(!parse_machines("qemu-system-x86_64: -machine help: unknown option\n").ok());
}

BOOST_AUTO_TEST_CASE(kvm_is_usable_only_when_its_device_opens) {
  BOOST_TEST(!kvm_usable("/nonexistent/kvm"));
  BOOST_TEST(kvm_usable("/dev/null"));
}

BOOST_AUTO_TEST_CASE(a_binary_is_probed_once_until_it_changes) {
  interop::temp_dir d;
  auto bin = fs::path{d.path()} / "qemu-fake";
  write_fake(bin, "8.1.3", "fake");
  caps_cache cache;
  auto a = cache.get(bin.string());
  BOOST_TEST_REQUIRE(a.ok(), (a.ok() ? "" : a.error().message));
  BOOST_TEST((*a)->version == 8'001'003u);
  BOOST_TEST((*a)->package == "fake build");
  BOOST_TEST(((*a)->resolve_machine("fake") == std::optional<std::string>{"fake-1.0"}));
  BOOST_TEST((*a)->path == bin.string());
  auto b = cache.get(bin.string());
  BOOST_TEST(b->get() == a->get());
  BOOST_TEST(cache.probes() == 1u);
  // A new binary at the same path (another modification time and size).
  write_fake(bin, "9.0.0", "other");
  fs::last_write_time(bin, fs::last_write_time(bin) + std::chrono::seconds{5});
  auto c = cache.get(bin.string());
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST((*c)->version == 9'000'000u);
  BOOST_TEST(((*c)->resolve_machine("other") == std::optional<std::string>{"other-1.0"}));
  BOOST_TEST(cache.probes() == 2u);
}

BOOST_AUTO_TEST_CASE(a_broken_or_missing_binary_is_a_clear_error) {
  interop::temp_dir d;
  caps_cache cache;
  auto missing = cache.get(d.file("nope"));
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().message
             == "Cannot check QEMU binary " + d.file("nope")
                  + ": No such file or directory");
  auto bin = fs::path{d.path()} / "broken";
  {
    std::ofstream out(bin);
    out << "#!/bin/sh\nexit 1\n";
  }
  fs::permissions(bin, fs::perms::owner_all);
  auto broken = cache.get(bin.string());
  BOOST_TEST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.error().message
             == "internal error: Failed to probe capabilities for " + bin.string()
                  + ": -version failed");
  auto noexec = fs::path{d.path()} / "plain";
  {
    std::ofstream out(noexec);
    out << "not a program\n";
  }
  auto r = cache.get(noexec.string());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("cannot execute: Permission denied") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_installed_qemu_resolves_pc_and_q35) {
  if (!fs::exists(default_emulator)) {
    BOOST_TEST_MESSAGE("skipped: " << default_emulator << " is not installed");
    return;
  }
  caps_cache cache;
  auto c = cache.get(default_emulator);
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST_MESSAGE("QEMU " << (*c)->version_text << ", default machine "
                             << (*c)->default_machine() << ", kvm " << (*c)->kvm);
  BOOST_TEST((*c)->version >= 6'000'000u);
  auto pc = (*c)->resolve_machine("pc");
  auto q35 = (*c)->resolve_machine("q35");
  BOOST_TEST_REQUIRE(pc.has_value());
  BOOST_TEST_REQUIRE(q35.has_value());
  BOOST_TEST(pc->starts_with("pc-i440fx-"));
  BOOST_TEST(q35->starts_with("pc-q35-"));
  BOOST_TEST((*c)->kvm == kvm_usable());
  BOOST_TEST(cache.get(default_emulator)->get() == c->get());
  BOOST_TEST(cache.probes() == 1u);
}
