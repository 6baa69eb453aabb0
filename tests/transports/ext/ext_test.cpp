// The ext transport: any command whose stdin/stdout carry the stream. Tested
// with commands that reach a test virtactord (virtactor-ssh-helper, socat),
// with our client, the virtactor shell and the real virsh; failures report
// what the command said; no descriptors or children are left behind.
#define BOOST_TEST_MODULE transports_ext
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "client/blocking.hpp"
#include "actors/process.hpp"
#include "tests/interop/harness.hpp"
#include "tests/transports/ssh/census.hpp"
#include "tests/transports/ssh/client_checks.hpp"

using namespace virtactor;
using namespace std::chrono_literals;
using client::blocking_connection;
using protocol::proc;
using tests::domain_names;
using tests::list_through;
using tests::open_error;

namespace {

/// A test virtactord and scripts that connect to it.
struct fixture {
  interop::daemon_process daemon{interop::daemon_settings{"", false, {}, {}}};
  interop::temp_dir dir;

  /// A script (ext passes no arguments) running `body`.
  std::string script(const std::string& name, const std::string& body) {
    auto path = dir.file(name);
    interop::write_file(path, "#!/bin/sh\n" + body + "\n");
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
  }
  std::string helper_script() {
    return script("via-helper", std::string{"exec "} + VA_SSH_HELPER_PATH +
                                    " 'test:///default?socket=" + daemon.rw_socket() + "'");
  }
  std::string uri(const std::string& command) const {
    return "test+ext:///default?command=" + command;
  }
};

bool have_socat() {
  return ::access("/usr/bin/socat", X_OK) == 0;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(ext, fixture)

BOOST_AUTO_TEST_CASE(ext_reaches_virtactord_through_virtactor_ssh_helper) {
  list_through(uri(helper_script()));
}

BOOST_AUTO_TEST_CASE(ext_reaches_virtactord_through_socat) {
  if (!have_socat()) {
    BOOST_TEST_MESSAGE("skipped: socat is not installed (CI installs it)");
    return;
  }
  list_through(uri(script("via-socat", "exec socat - UNIX-CONNECT:" + daemon.rw_socket())));
}

BOOST_AUTO_TEST_CASE(a_command_that_is_not_in_path_is_refused_before_anything_runs) {
  auto e = open_error(uri("no-such-command-for-virtactor"));
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(e.domain == error_domain::none);
  BOOST_TEST(e.message ==
             "Cannot find 'no-such-command-for-virtactor' in path: No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_command_that_cannot_be_executed_is_refused) {
  auto plain = dir.file("not-executable");
  interop::write_file(plain, "just text\n");
  auto e = open_error(uri(plain));
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(e.domain == error_domain::rpc);
  BOOST_TEST(e.message == "cannot execute binary " + plain + ": Permission denied");
}

BOOST_AUTO_TEST_CASE(what_the_command_says_on_stderr_explains_its_end) {
  auto e = open_error(uri(script("grumpy", "echo 'no daemon here, sorry' >&2\nexit 3")));
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(e.domain == error_domain::rpc);
  BOOST_TEST(e.message ==
             "End of file while reading data: no daemon here, sorry: Input/output error");
  auto quiet = open_error(uri("/bin/true"));
  BOOST_TEST(quiet.code == error_code::system_error);
  BOOST_TEST(quiet.message == "End of file while reading data: Input/output error");
}

BOOST_AUTO_TEST_CASE(the_command_gets_libvirts_short_environment_and_no_arguments) {
  auto out = dir.file("env");
  auto e = open_error(uri(script("env-dump", "env > " + out + "; echo \"$#\" >> " + out)));
  (void)e;
  auto text = interop::read_file(out);
  BOOST_TEST(text.find("LC_ALL=C\n") != std::string::npos, text);
  BOOST_TEST(text.find("PATH=") != std::string::npos, text);
  BOOST_TEST(text.find("VA_SOURCE_DIR=") == std::string::npos, text);
  BOOST_TEST(text.substr(text.size() - 2) == "0\n", text);
}

BOOST_AUTO_TEST_CASE(the_virtactor_shell_lists_domains_over_ext) {
#ifdef VA_VIRTACTOR_SHELL_PATH
  auto r = interop::run_process(
      {VA_VIRTACTOR_SHELL_PATH, "-c", uri(helper_script()), "list", "--all"}, {}, 120s);
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == tests::list_all_text);
#else
  BOOST_TEST_MESSAGE("skipped: the virtactor shell is not part of this build");
#endif
}

BOOST_AUTO_TEST_CASE(the_real_virsh_reaches_virtactord_through_our_helper) {
  if (::access("/usr/bin/virsh", X_OK) != 0) {
    BOOST_TEST_MESSAGE("skipped: virsh is not installed (CI installs libvirt-clients)");
    return;
  }
  auto r = interop::run_process({"/usr/bin/virsh", "-c", uri(helper_script()), "list", "--all"}, {},
                                120s);
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == tests::list_all_text);
}

BOOST_AUTO_TEST_CASE(many_opens_and_closes_leave_no_descriptors_or_children_behind) {
  auto command = uri(helper_script());
  list_through(command); // warm up the actor system and the process monitor
  std::vector<pid_t> peers{daemon.pid()};
  auto no_children = [&] {
    return tests::children_except(peers).empty() && unreaped_stream_processes() == 0;
  };
  auto settled = [&](size_t baseline) {
    return interop::wait_until([&] { return tests::open_fds() <= baseline && no_children(); }, 20s);
  };
  BOOST_REQUIRE(interop::wait_until(no_children, 20s));
  auto baseline = tests::open_fds();
  for (int i = 0; i < 40; ++i) {
    auto c = blocking_connection::open(command);
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    BOOST_TEST(domain_names(**c).size() == 1u);
    if (i % 2)
      BOOST_TEST((*c)->close().ok()); // else the destructor closes it
  }
  for (int i = 0; i < 10; ++i)
    (void)blocking_connection::open(uri("/bin/true"));
  BOOST_TEST(settled(baseline),
             "descriptors " << tests::open_fds() << " (baseline " << baseline
                            << "), children: " << tests::describe(tests::children_except(peers)));
}

BOOST_AUTO_TEST_SUITE_END()
