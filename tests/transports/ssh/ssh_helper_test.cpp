// virtactor-ssh-helper: its command line and messages next to libvirt 9.0's
// virt-ssh-helper, its socket choice, and its proxying to a test virtactord.
#define BOOST_TEST_MODULE transports_ssh_helper
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/fd.hpp"
#include "client/ssh_helper/ssh_helper.hpp"
#include "tests/interop/harness.hpp"

using namespace virtactor;
using namespace std::chrono_literals;

namespace {

constexpr const char* real_helper = "/usr/bin/virt-ssh-helper";

/// Runs a helper as "virt-ssh-helper" (so both print the same program name).
interop::process_result run_as_helper(const std::string& binary,
                                      const std::vector<std::string>& args) {
  interop::temp_dir tmp;
  auto link = tmp.file("virt-ssh-helper");
  BOOST_REQUIRE(::symlink(binary.c_str(), link.c_str()) == 0);
  std::vector<std::string> argv{link};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = interop::run_process(argv, {}, 30s);
  // Both print argv[0]; compare what follows it.
  for (auto* text : {&r.out, &r.err}) {
    size_t at;
    while ((at = text->find(link)) != std::string::npos)
      text->replace(at, link.size(), "virt-ssh-helper");
  }
  return r;
}

ssh_helper::options parsed(const std::vector<std::string>& argv) {
  auto r = ssh_helper::parse_options(argv);
  BOOST_REQUIRE(std::holds_alternative<ssh_helper::options>(r));
  return std::get<ssh_helper::options>(r);
}

} // namespace

BOOST_AUTO_TEST_CASE(options_are_read_as_virt_ssh_helper_reads_them) {
  auto o = parsed({"h", "-r", "qemu:///system"});
  BOOST_TEST(o.read_only);
  BOOST_TEST(o.args == std::vector<std::string>{"qemu:///system"});
  o = parsed({"h", "qemu:///system", "--readonly"});
  BOOST_TEST(o.read_only);
  o = parsed({"h", "-rV"});
  BOOST_TEST((o.read_only && o.version));
  o = parsed({"h", "--", "-r"});
  BOOST_TEST(!o.read_only);
  BOOST_TEST(o.args == std::vector<std::string>{"-r"});
  BOOST_TEST(parsed({"h", "-?"}).help);
  auto bad = ssh_helper::parse_options({"h", "-x"});
  BOOST_REQUIRE(std::holds_alternative<std::string>(bad));
  BOOST_TEST(std::get<std::string>(bad) == "Unknown option -x");
  bad = ssh_helper::parse_options({"h", "--vers"});
  BOOST_TEST(std::get<std::string>(bad) == "Unknown option --vers");
}

BOOST_AUTO_TEST_CASE(the_socket_follows_the_uri_as_libvirt_chooses_it) {
  client::local_env root;
  auto pick = [&](const std::string& uri, bool ro, const client::local_env& env) {
    return ssh_helper::choose_socket(uri, ro, env);
  };
  BOOST_TEST(pick("qemu:///system", false, root).path.value_or("") ==
             "/var/run/libvirt/libvirt-sock");
  BOOST_TEST(pick("qemu:///system", true, root).path.value_or("") ==
             "/var/run/libvirt/libvirt-sock-ro");
  BOOST_TEST(pick("qemu:///system?mode=direct", false, root).path.value_or("") ==
             "/var/run/libvirt/virtqemud-sock");
  BOOST_TEST(pick("test:///default?socket=/tmp/x/sock", true, root).path.value_or("") ==
             "/tmp/x/sock");
  client::local_env user;
  user.euid = 1000;
  user.xdg_runtime_dir = "/run/user/1000";
  BOOST_TEST(pick("qemu:///session", false, user).path.value_or("") ==
             "/run/user/1000/libvirt/libvirt-sock");
  auto e = pick("qemu+ssh://h/system", false, root);
  BOOST_TEST(!e.path);
  BOOST_TEST(e.error == "unexpected URI transport 'qemu+ssh://h/system'");
  BOOST_TEST(pick("qemu://h/system", false, root).error ==
             "unexpected URI transport 'qemu://h/system'");
  BOOST_TEST(pick("x", false, root).error ==
             "cannot parse URI transport 'x': invalid argument: missing scheme for URI");
}

BOOST_AUTO_TEST_CASE(messages_and_exit_codes_match_the_real_virt_ssh_helper) {
  if (::access(real_helper, X_OK) != 0) {
    BOOST_TEST_MESSAGE("skipped: virt-ssh-helper is not installed (libvirt-daemon)");
    return;
  }
  std::vector<std::vector<std::string>> cases = {
      {},
      {"a", "b"},
      {"-x"},
      {"--vers"},
      {"x"},
      {""},
      {"foo+bar:///x"},
      {"qemu+ssh://h/system"},
      {"qemu+tcp:///system"},
      {":::"},
  };
  // Without a daemon on the default socket both report the same failure.
  // (`socket=` is left out: 9.0's helper ignores it, ours honours it.)
  if (!interop::exists("/var/run/libvirt/libvirt-sock"))
    cases.insert(cases.end(), {{"qemu:///system"}, {"-r", "qemu:///system"}});
  for (const auto& args : cases) {
    std::string shown;
    for (const auto& a : args)
      shown += "'" + a + "' ";
    auto theirs = run_as_helper(real_helper, args);
    auto ours = run_as_helper(VA_SSH_HELPER_PATH, args);
    BOOST_TEST(ours.exit_code == theirs.exit_code, shown);
    // The usage text is ours (the same layout, our own description).
    if (theirs.err.rfind("Usage:", 0) == 0) {
      BOOST_TEST(ours.err.rfind("Usage:\n  virt-ssh-helper [OPTION?] URI - libvirt socket proxy\n",
                                0) == 0,
                 shown << ours.err);
      continue;
    }
    BOOST_TEST(ours.err == theirs.err,
               shown << "\nlibvirt: " << theirs.err << "ours:    " << ours.err);
    BOOST_TEST(ours.out == theirs.out, shown);
  }
}

BOOST_AUTO_TEST_CASE(help_and_version_go_to_stdout_and_succeed) {
  auto help = interop::run_process({VA_SSH_HELPER_PATH, "--help"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.out.find("-r, --readonly     Connect read-only") != std::string::npos);
  auto version = interop::run_process({VA_SSH_HELPER_PATH, "-V"});
  BOOST_TEST(version.exit_code == 0);
  BOOST_TEST(version.out.find(" (virtactor) ") != std::string::npos, version.out);
}

BOOST_AUTO_TEST_CASE(the_proxy_carries_bytes_both_ways_and_ends_with_either_side) {
  // A fake daemon: a socketpair standing in for the unix socket.
  int daemon_pair[2], client_pair[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, daemon_pair) == 0);
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, client_pair) == 0);
  unique_fd daemon_end{daemon_pair[0]}, helper_sock{daemon_pair[1]};
  unique_fd client_end{client_pair[0]}, helper_stdio{client_pair[1]};
  std::optional<std::string> outcome = std::string{"not run"};
  std::thread proxy{[&] {
    outcome = ssh_helper::proxy(helper_stdio.get(), helper_stdio.get(), helper_sock.get());
  }};
  // 1 MiB each way, larger than any buffer on the path.
  std::string up(1 << 20, 'u'), down(1 << 20, 'd');
  std::thread writer{
      [&] { BOOST_CHECK(::write(client_end.get(), up.data(), up.size()) == ssize_t(up.size())); }};
  std::string got_up;
  char buf[65536];
  while (got_up.size() < up.size()) {
    auto n = ::read(daemon_end.get(), buf, sizeof buf);
    BOOST_REQUIRE(n > 0);
    got_up.append(buf, size_t(n));
  }
  writer.join();
  BOOST_TEST(got_up == up);
  std::thread writer2{[&] {
    BOOST_CHECK(::write(daemon_end.get(), down.data(), down.size()) == ssize_t(down.size()));
    daemon_end.reset(); // the daemon hangs up after its last reply
  }};
  std::string got_down;
  while (got_down.size() < down.size()) {
    auto n = ::read(client_end.get(), buf, sizeof buf);
    BOOST_REQUIRE(n > 0);
    got_down.append(buf, size_t(n));
  }
  writer2.join();
  proxy.join(); // it returns once the daemon's last bytes are delivered
  BOOST_TEST(got_down == down);
  BOOST_TEST(!outcome.has_value(), outcome.value_or(""));
}

BOOST_AUTO_TEST_CASE(the_helper_carries_a_libvirt_connection_to_virtactord) {
  interop::daemon_process daemon{interop::daemon_settings{"", false, {}, {}}};
  // The helper's stdin and stdout are one end of a socketpair; one call and
  // its reply through it show the whole path works.
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd ours{sv[0]}, theirs{sv[1]};
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(theirs.get(), 0);
    ::dup2(theirs.get(), 1);
    ::execl(VA_SSH_HELPER_PATH, VA_SSH_HELPER_PATH,
            ("test:///default?socket=" + daemon.rw_socket()).c_str(), nullptr);
    ::_exit(127);
  }
  theirs.reset();
  // REMOTE_PROC_CONNECT_SUPPORTS_FEATURE (60), feature 10 (keepalive): one call.
  const unsigned char call[] = {0, 0, 0, 32, 0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 60,
                                0, 0, 0, 0,  0,    0,    0,    7,    0, 0, 0, 0, 0, 0, 0, 10};
  BOOST_REQUIRE(::write(ours.get(), call, sizeof call) == ssize_t(sizeof call));
  unsigned char reply[64];
  size_t got = 0;
  while (got < 28) {
    auto n = ::read(ours.get(), reply + got, sizeof reply - got);
    BOOST_REQUIRE(n > 0);
    got += size_t(n);
  }
  BOOST_TEST(reply[3] == 32); // header (24) + length (4) + one int
  BOOST_TEST(reply[23] == 7); // our serial
  BOOST_TEST(reply[19] == 1); // type: reply
  ours.reset();               // the client leaves: the helper must end cleanly
  int status = -1;
  bool ended = interop::wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 20s);
  BOOST_REQUIRE(ended);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}
