// The ssh transport's command line: the arguments and remote command libvirt
// 9.0 gives `ssh`, checked against known strings and against the real
// python3-libvirt (its `command=` pointed at a script that records argv).
#define BOOST_TEST_MODULE transports_ssh_command
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "client/remote/transports.hpp"
#include "client/uri.hpp"
#include "tests/interop/harness.hpp"

using namespace virtactor;
using namespace std::chrono_literals;

namespace {

client::remote_target target(const std::string& text) {
  auto u = client::parse_uri(text);
  BOOST_REQUIRE_MESSAGE(u.ok(), text);
  auto t = client::make_remote_target(*u, client::local_env{});
  BOOST_REQUIRE_MESSAGE(t.ok(), text << ": " << (t.ok() ? "" : t.error().message));
  return *t;
}

std::vector<std::string> line(const std::string& text, bool read_only = false) {
  auto argv = client::ssh_command_line(target(text), read_only);
  BOOST_REQUIRE_MESSAGE(argv.ok(), text << ": " << (argv.ok() ? "" : argv.error().message));
  return *argv;
}

const std::string nc_probe = "if 'nc' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; "
                             "then ARG=-q0;else ARG=;fi;'nc' $ARG -U ";

} // namespace

BOOST_AUTO_TEST_CASE(the_default_probes_for_virt_ssh_helper_and_falls_back_to_netcat) {
  auto argv = line("qemu+ssh://u@h:2/system");
  std::vector<std::string> expected = {
      "ssh",
      "-p",
      "2",
      "-l",
      "u",
      "-T",
      "-e",
      "none",
      "--",
      "h",
      "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     virt-ssh-helper "
      "'qemu:///system'; else    " +
          nc_probe + "/var/run/libvirt/libvirt-sock; fi'"};
  BOOST_TEST(argv == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(options_follow_libvirts_order) {
  auto argv =
      line("test+ssh://h/default?command=/x/ssh&no_tty=1&keyfile=/k&no_verify=1&netcat=/my/nc");
  std::vector<std::string> expected = {
      "/x/ssh",
      "-i",
      "/k",
      "-T",
      "-e",
      "none",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "--",
      "h",
      "sh -c 'if '/my/nc' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then "
      "ARG=-q0;else ARG=;fi;'/my/nc' $ARG -U /var/run/libvirt/libvirt-sock'"};
  BOOST_TEST(argv == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(read_only_opens_use_the_read_only_socket_and_helper_flag) {
  auto argv = line("qemu+ssh://h/system", true);
  BOOST_TEST(argv.back() ==
             "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     "
             "virt-ssh-helper -r 'qemu:///system'; else    " +
                 nc_probe + "/var/run/libvirt/libvirt-sock-ro; fi'");
}

BOOST_AUTO_TEST_CASE(uris_with_metacharacters_are_quoted_twice) {
  // The login shell and our `sh -c` both parse the remote command.
  auto argv = line("qemu+ssh://h/system?proxy=native&foo=bar&baz=1");
  BOOST_TEST(argv.back() == "sh -c 'virt-ssh-helper '''\\''qemu:///system?foo=bar&baz=1'\\'''''");
  auto socket = line("qemu+ssh://h/system?socket=/a%20b/c%27d");
  BOOST_TEST(socket.back() == "sh -c '" +
                                  std::string{"if 'nc' -q 2>&1 | grep \"requires an "
                                              "argument\" >/dev/null 2>&1; then "
                                              "ARG=-q0;else ARG=;fi;'nc' $ARG -U "} +
                                  "'''\\''/a b/c'\\''\\'\\'''\\''d'\\''''" + "'");
}

BOOST_AUTO_TEST_CASE(odd_words_survive_the_login_shell_and_sh) {
  // Run the remote command as sshd would (`$SHELL -c COMMAND`), with fake
  // nc and virt-ssh-helper that record the arguments they get.
  interop::temp_dir tmp;
  auto fake = [&](const std::string& name) {
    auto path = tmp.file(name);
    interop::write_file(path, "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>' \"$a\"; done >> " +
                                  tmp.file("args") + "\necho >> " + tmp.file("args") + "\n");
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
  };
  auto nc = fake("my nc");
  fake("virt-ssh-helper");
  auto run = [&](const std::string& uri) {
    std::filesystem::remove(tmp.file("args"));
    auto command = client::ssh_remote_command(target(uri), false);
    BOOST_REQUIRE(command.ok());
    auto r = interop::run_process({"/bin/sh", "-c", *command},
                                  {"PATH=" + tmp.path() + ":/usr/bin:/bin"});
    BOOST_TEST(r.exit_code == 0, r.err);
    return interop::read_file(tmp.file("args"));
  };
  auto enc_nc = "/" + nc.substr(1); // the path, percent-encoded where needed
  for (size_t at; (at = enc_nc.find(' ')) != std::string::npos;)
    enc_nc.replace(at, 1, "%20");
  // The probe runs nc once with -q (answer ignored), then for real.
  auto args = run("qemu+ssh://h/system?netcat=" + enc_nc + "&socket=/a%20b/c%27d%24x");
  BOOST_TEST(args.find("<-U></a b/c'd$x>") != std::string::npos, args);
  args = run("qemu+ssh://h/system?proxy=native&x=a%20b%27c");
  BOOST_TEST(args == "<qemu:///system?x=a%20b%27c>\n", args);
}

BOOST_AUTO_TEST_CASE(the_helper_is_given_the_mode_and_socket_parameters) {
  // As newer libvirt does (virtSshURI), so a helper can reach a private
  // socket; values are percent-encoded as virURIFormatParams does.
  auto argv = line("test+ssh://h/default?proxy=native&socket=/run/s&x=1&mode=legacy");
  BOOST_TEST(argv.back() == "sh -c 'virt-ssh-helper "
                            "'''\\''test:///default?socket=%2Frun%2Fs&x=1&mode=legacy'\\'''''");
  auto named = line("test+ssh://h/default?proxy=native&socket=/run/s&name=test:///other");
  BOOST_TEST(named.back() == "sh -c 'virt-ssh-helper 'test:///other''");
}

BOOST_AUTO_TEST_CASE(a_netcat_path_with_the_native_proxy_is_refused) {
  auto u = client::parse_uri("qemu+ssh://h/system?proxy=native&netcat=/bin/nc");
  BOOST_REQUIRE(u.ok());
  auto t = client::make_remote_target(*u, client::local_env{});
  BOOST_REQUIRE(!t.ok());
  BOOST_TEST(t.error().message == "invalid argument: netcat path not valid with native proxy mode");
}

BOOST_AUTO_TEST_CASE(the_command_line_matches_python_libvirt_for_the_same_uris) {
  if (::access(interop::system_python, X_OK) != 0 ||
      interop::run_process({interop::system_python, "-c", "import libvirt"}).exit_code != 0) {
    BOOST_TEST_MESSAGE("skipped: python3-libvirt is not installed");
    return;
  }
  interop::temp_dir tmp;
  // A fake ssh that records its arguments, one per line (none holds a newline).
  auto fake = tmp.file("fake-ssh");
  interop::write_file(fake, "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done > " +
                                tmp.file("argv") + "\nexit 1\n");
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  std::vector<std::pair<std::string, bool>> cases = {
      {"qemu+ssh://u@h:2/system", false},
      {"qemu+ssh://h/system", true},
      {"test+ssh://h/default?no_tty=1&keyfile=/k&no_verify=1&netcat=/my/nc", false},
      {"qemu+ssh://h/system?proxy=native", false},
      {"qemu+ssh://h/system?proxy=netcat", true},
      {"qemu+ssh://h/session", false},
      {"qemu+ssh://h/system?foo=bar&baz=1", false},
      {"qemu+ssh://h/system?name=qemu:///x%20y", false},
      {"qemu+ssh://h/sys%20tem", false},
      {"qemu+ssh://h/system?socket=/run/other-sock", false},
      {"remote+ssh://h/", false},
      {"qemu+ssh://[::1]:22/system", false},
  };
  for (const auto& [uri, ro] : cases) {
    auto full = uri + (uri.find('?') == std::string::npos ? "?" : "&") + "command=" + fake;
    std::string script =
        "import libvirt, sys\n"
        "libvirt.registerErrorHandler(lambda c, e: None, None)\n"
        "try:\n"
        "    (libvirt.openReadOnly if sys.argv[2] == '1' else libvirt.open)(sys.argv[1])\n"
        "except libvirt.libvirtError:\n"
        "    pass\n";
    std::filesystem::remove(tmp.file("argv"));
    auto r =
        interop::run_process({interop::system_python, "-c", script, full, ro ? "1" : "0"}, {}, 60s);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto recorded = interop::read_file(tmp.file("argv"));
    std::string ours;
    for (const auto& a : line(full, ro))
      ours += a + "\n";
    BOOST_TEST(ours == recorded, uri << "\nlibvirt:\n" << recorded << "ours:\n" << ours);
  }
}
