// The ssh, libssh2 and libssh transports end to end: a real OpenSSH sshd on
// 127.0.0.1 with throwaway keys, a test virtactord behind it, reached through
// `nc -U` or through virtactor-ssh-helper installed as virt-ssh-helper; our
// client (blocking API and shell) and the real virsh as clients; refused host
// keys and credentials; no descriptors or children left behind.
#define BOOST_TEST_MODULE transports_ssh
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "client/blocking.hpp"
#include "actors/process.hpp"
#include "tests/interop/harness.hpp"
#include "tests/transports/ssh/census.hpp"
#include "tests/transports/ssh/client_checks.hpp"
#include "tests/transports/ssh/sshd_peer.hpp"

using namespace virtactor;
using namespace std::chrono_literals;
using client::blocking_connection;
using protocol::proc;
using tests::domain_names;
using tests::list_through;
using tests::open_error;
using tests::sshd_peer;

namespace {

/// One sshd and one virtactord for the whole module (starting them costs a second).
struct peers {
  std::unique_ptr<interop::daemon_process> daemon;
  std::unique_ptr<sshd_peer> sshd;
  std::string skip;

  peers() {
    skip = sshd_peer::unavailable();
    if (!skip.empty())
      return;
    daemon = std::make_unique<interop::daemon_process>(interop::daemon_settings{"", false, {}, {}});
    sshd = std::make_unique<sshd_peer>(VA_SSH_HELPER_PATH);
  }

  std::string base(const std::string& transport) const {
    return "test+" + transport + "://root@127.0.0.1:" + std::to_string(sshd->port()) + "/default?";
  }
  /// ssh through `nc -U` (a socket= URI defaults to the netcat proxy).
  std::string ssh_uri(const std::string& extra = "") const {
    return base("ssh") + "socket=" + daemon->rw_socket() + "&keyfile=" + sshd->user_key() +
           "&no_tty=1&command=" + sshd->ssh_wrapper() + extra;
  }
  std::string libssh2_uri(const std::string& extra = "",
                          const std::string& transport = "libssh2") const {
    return base(transport) + "socket=" + daemon->rw_socket() + "&keyfile=" + sshd->user_key() +
           "&known_hosts=" + sshd->known_hosts() + "&sshauth=privkey" + extra;
  }
  std::vector<pid_t> pids() const { return {daemon->pid(), sshd_pid()}; }
  pid_t sshd_pid() const {
    auto text = interop::read_file(sshd->file("sshd.pid"));
    return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
  }
};

peers& the_peers() {
  static peers p;
  return p;
}

#define NEED_PEERS()                                                                               \
  auto& P = the_peers();                                                                           \
  if (!P.skip.empty()) {                                                                           \
    BOOST_TEST_MESSAGE("skipped: " << P.skip);                                                     \
    return;                                                                                        \
  }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Answers every question from a list, recording what was asked.
struct scripted_auth {
  std::vector<std::string> answers;
  std::vector<credential> asked;

  std::shared_ptr<const connect_auth> make() {
    auto a = std::make_shared<connect_auth>();
    a->types = {credential_type::authname, credential_type::passphrase, credential_type::echoprompt,
                credential_type::noechoprompt};
    a->callback = [this](std::vector<credential>& creds) {
      for (auto& c : creds) {
        asked.push_back(c);
        if (!answers.empty()) {
          c.result = answers.front();
          answers.erase(answers.begin());
        }
      }
      return true;
    };
    return a;
  }
};

/// Waits until this process has as many descriptors as at `baseline` and no
/// children but the peers; reports what is left otherwise.
void expect_nothing_left(size_t baseline, const std::vector<pid_t>& peers_pids) {
  bool clean = interop::wait_until(
      [&] {
        return tests::open_fds() <= baseline && tests::children_except(peers_pids).empty() &&
               unreaped_stream_processes() == 0;
      },
      20s);
  BOOST_TEST(clean, "descriptors "
                        << tests::open_fds() << " (baseline " << baseline
                        << "), children: " << tests::describe(tests::children_except(peers_pids)));
}

} // namespace

// --- the ssh binary --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ssh_reaches_virtactord_through_netcat_on_the_far_side) {
  NEED_PEERS();
  list_through(P.ssh_uri());
  list_through(P.ssh_uri("&proxy=netcat&netcat=nc"));
}

BOOST_AUTO_TEST_CASE(ssh_reaches_virtactord_through_our_helper_installed_as_virt_ssh_helper) {
  NEED_PEERS();
  list_through(P.ssh_uri("&proxy=native"));
  list_through(P.ssh_uri("&proxy=auto"));
}

BOOST_AUTO_TEST_CASE(a_read_only_open_over_ssh_uses_the_read_only_socket) {
  NEED_PEERS();
  auto uri = P.base("ssh") + "socket=" + P.daemon->ro_socket() + "&keyfile=" + P.sshd->user_key() +
             "&no_tty=1&command=" + P.sshd->ssh_wrapper();
  auto c = blocking_connection::open(uri, client::connect_ro);
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(domain_names(**c) == std::vector<std::string>{"test"});
  auto dom = (*c)->call<proc::domain_lookup_by_name>({"test"});
  BOOST_REQUIRE(dom.ok());
  auto suspend = (*c)->call<proc::domain_suspend>({dom->dom});
  BOOST_REQUIRE(!suspend.ok());
  BOOST_TEST(suspend.error().code == error_code::operation_denied);
}

BOOST_AUTO_TEST_CASE(a_changed_host_key_stops_ssh_with_its_own_words) {
  NEED_PEERS();
  auto uri = P.base("ssh") + "socket=" + P.daemon->rw_socket() + "&keyfile=" + P.sshd->user_key() +
             "&no_tty=1&command=" + P.sshd->ssh_wrapper(true);
  auto e = open_error(uri);
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(e.domain == error_domain::rpc);
  BOOST_TEST(contains(e.message, "Host key verification failed."), e.message);
}

BOOST_AUTO_TEST_CASE(a_key_the_server_does_not_know_is_refused_over_ssh) {
  NEED_PEERS();
  auto uri = P.base("ssh") + "socket=" + P.daemon->rw_socket() + "&keyfile=" + P.sshd->rogue_key() +
             "&no_tty=1&command=" + P.sshd->ssh_wrapper();
  auto e = open_error(uri);
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(e.domain == error_domain::rpc);
  BOOST_TEST(contains(e.message, "Permission denied"), e.message);
}

BOOST_AUTO_TEST_CASE(a_far_side_without_the_daemon_socket_explains_itself) {
  NEED_PEERS();
  auto uri = P.base("ssh") + "socket=" + P.sshd->file("no-such-sock") +
             "&keyfile=" + P.sshd->user_key() + "&no_tty=1&command=" + P.sshd->ssh_wrapper() +
             "&proxy=native";
  auto e = open_error(uri);
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(contains(e.message, "cannot connect to '" + P.sshd->file("no-such-sock") + "'"),
             e.message);
}

// --- libssh2 and libssh ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(libssh2_reaches_virtactord_with_a_key_file) {
  NEED_PEERS();
  list_through(P.libssh2_uri());
  list_through(P.libssh2_uri("&proxy=native"));
  list_through(P.libssh2_uri("", "libssh"));
}

BOOST_AUTO_TEST_CASE(libssh2_refuses_a_host_key_that_differs_from_known_hosts) {
  NEED_PEERS();
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + P.sshd->wrong_known_hosts();
  auto e = open_error(uri);
  BOOST_TEST(e.code == error_code::auth_failed);
  BOOST_TEST(e.domain == error_domain::ssh);
  BOOST_TEST(e.message.rfind("authentication failed: !!! SSH HOST KEY VERIFICATION FAILED !!!: "
                             "Identity of host '127.0.0.1:" +
                                 std::to_string(P.sshd->port()) + "' differs from stored identity.",
                             0) == 0,
             e.message);
  // Even a callback that would say yes is not asked about a changed key.
  scripted_auth yes{{"y"}, {}};
  open_options opts;
  opts.auth = yes.make();
  auto again = open_error(uri, opts);
  BOOST_TEST(again.code == error_code::auth_failed);
  BOOST_TEST(yes.asked.empty());
}

BOOST_AUTO_TEST_CASE(libssh2_refuses_an_unknown_host_key_when_nobody_can_be_asked) {
  NEED_PEERS();
  interop::temp_dir tmp;
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + tmp.file("known_hosts");
  auto e = open_error(uri);
  BOOST_TEST(e.code == error_code::ssh);
  BOOST_TEST(e.domain == error_domain::ssh);
  BOOST_TEST(e.message ==
             "SSH transport error: No user interaction callback provided: Can't verify the session "
             "host key");
  BOOST_TEST(!interop::exists(tmp.file("known_hosts")));
}

BOOST_AUTO_TEST_CASE(libssh2_adds_an_unknown_host_key_with_known_hosts_verify_auto) {
  NEED_PEERS();
  interop::temp_dir tmp;
  auto kh = tmp.file("sub/known_hosts");
  list_through(P.base("libssh2") + "socket=" + P.daemon->rw_socket() + "&keyfile=" +
               P.sshd->user_key() + "&known_hosts=" + kh + "&known_hosts_verify=auto");
  auto saved = interop::read_file(kh);
  BOOST_TEST(contains(saved, P.sshd->host_key_line() + " added by libvirt ssh transport"), saved);
  // Known now: the next open needs no verification mode at all.
  list_through(P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
               "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + kh);
}

BOOST_AUTO_TEST_CASE(libssh2_ignores_host_keys_with_known_hosts_verify_ignore) {
  NEED_PEERS();
  list_through(P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
               "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + P.sshd->wrong_known_hosts() +
               "&known_hosts_verify=ignore");
}

BOOST_AUTO_TEST_CASE(libssh2_asks_the_callbacks_about_an_unknown_host_key) {
  NEED_PEERS();
  interop::temp_dir tmp;
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + tmp.file("known_hosts");
  scripted_auth no{{"n"}, {}};
  open_options opts;
  opts.auth = no.make();
  auto e = open_error(uri, opts);
  BOOST_TEST(e.code == error_code::ssh);
  BOOST_TEST(contains(e.message, "SSH host key for '127.0.0.1' ("), e.message);
  BOOST_TEST(contains(e.message, ") was not accepted"), e.message);
  BOOST_REQUIRE_EQUAL(no.asked.size(), 1u);
  BOOST_TEST(int(no.asked[0].type) == int(credential_type::echoprompt));
  BOOST_TEST(no.asked[0].prompt.rfind("Accept SSH host key with hash '", 0) == 0,
             no.asked[0].prompt);
  BOOST_TEST(contains(no.asked[0].prompt,
                      "' for host '127.0.0.1:" + std::to_string(P.sshd->port()) + "' (y/n)?"));
  BOOST_TEST(!interop::exists(tmp.file("known_hosts")));

  scripted_auth yes{{"y"}, {}};
  opts.auth = yes.make();
  list_through(uri, opts);
  BOOST_TEST(yes.asked.size() == 1u);
  BOOST_TEST(contains(interop::read_file(tmp.file("known_hosts")), P.sshd->host_key_line()));
}

BOOST_AUTO_TEST_CASE(libssh2_refuses_a_key_the_server_does_not_know) {
  NEED_PEERS();
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&keyfile=" + P.sshd->rogue_key() + "&known_hosts=" + P.sshd->known_hosts();
  auto only = open_error(uri + "&sshauth=privkey");
  BOOST_TEST(only.code == error_code::auth_failed);
  BOOST_TEST(only.domain == error_domain::ssh);
  BOOST_TEST(only.message.rfind("authentication failed: authentication with private key '" +
                                    P.sshd->rogue_key() + "' has failed: ",
                                0) == 0,
             only.message);
  // With libvirt's default methods (agent, privkey, password, keyboard-interactive).
  auto all = open_error(uri);
  BOOST_TEST(all.code == error_code::auth_failed);
  BOOST_TEST(all.message == "authentication failed: All provided authentication methods with "
                            "credentials were rejected by the server");
}

BOOST_AUTO_TEST_CASE(libssh2_asks_the_callbacks_for_a_key_passphrase) {
  NEED_PEERS();
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&keyfile=" + P.sshd->passphrase_key() + "&known_hosts=" + P.sshd->known_hosts() +
             "&sshauth=privkey";
  auto none = open_error(uri);
  BOOST_TEST(none.code == error_code::ssh);
  BOOST_TEST(none.message == "SSH transport error: No user interaction callback provided: Can't "
                             "retrieve private key passphrase");
  scripted_auth wrong{{"wrong"}, {}};
  open_options opts;
  opts.auth = wrong.make();
  auto refused = open_error(uri, opts);
  BOOST_TEST(refused.code == error_code::auth_failed);
  scripted_auth right{{"secret"}, {}};
  opts.auth = right.make();
  list_through(uri, opts);
  BOOST_REQUIRE_EQUAL(right.asked.size(), 1u);
  BOOST_TEST(int(right.asked[0].type) == int(credential_type::passphrase));
  BOOST_TEST(right.asked[0].prompt == "Passphrase for key '" + P.sshd->passphrase_key() + "'");
}

BOOST_AUTO_TEST_CASE(libssh2_authenticates_with_a_key_from_the_ssh_agent) {
  NEED_PEERS();
  if (::access("/usr/bin/ssh-agent", X_OK) != 0 || ::access("/usr/bin/ssh-add", X_OK) != 0) {
    BOOST_TEST_MESSAGE("skipped: ssh-agent is not installed (openssh-client)");
    return;
  }
  interop::temp_dir tmp;
  auto sock = tmp.file("agent.sock");
  interop::child_process agent{
      {"/usr/bin/ssh-agent", "-D", "-a", sock}, {}, tmp.file("agent.out"), tmp.file("agent.err")};
  BOOST_REQUIRE(interop::wait_until([&] { return interop::exists(sock); }, 20s));
  // libssh2 finds the agent through SSH_AUTH_SOCK, as ssh does.
  struct agent_env {
    explicit agent_env(const std::string& s) { ::setenv("SSH_AUTH_SOCK", s.c_str(), 1); }
    ~agent_env() { ::unsetenv("SSH_AUTH_SOCK"); }
  } env{sock};
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&known_hosts=" + P.sshd->known_hosts() + "&sshauth=agent";
  auto empty = open_error(uri);
  BOOST_TEST(empty.code == error_code::auth_failed);
  BOOST_TEST(empty.message ==
             "authentication failed: SSH Agent did not provide any authentication identity");
  auto add =
      interop::run_process({"/usr/bin/ssh-add", P.sshd->rogue_key()}, {"SSH_AUTH_SOCK=" + sock});
  BOOST_REQUIRE_MESSAGE(add.exit_code == 0, add.err);
  auto rejected = open_error(uri);
  BOOST_TEST(rejected.message ==
             "authentication failed: All identities provided by the SSH Agent were rejected");
  add = interop::run_process({"/usr/bin/ssh-add", P.sshd->user_key()}, {"SSH_AUTH_SOCK=" + sock});
  BOOST_REQUIRE_MESSAGE(add.exit_code == 0, add.err);
  list_through(uri);
  agent.stop(10s);
}

BOOST_AUTO_TEST_CASE(methods_the_server_does_not_offer_get_a_clear_error) {
  NEED_PEERS();
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&known_hosts=" + P.sshd->known_hosts() + "&sshauth=password,keyboard-interactive";
  auto e = open_error(uri);
  BOOST_TEST(e.code == error_code::auth_failed);
  BOOST_TEST(e.message == "authentication failed: None of the requested authentication methods "
                          "are supported by the server");
}

BOOST_AUTO_TEST_CASE(libssh_uris_report_libvirts_libssh_code_and_domain) {
  NEED_PEERS();
  interop::temp_dir tmp;
  auto e = open_error(P.base("libssh") + "socket=" + P.daemon->rw_socket() +
                      "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + tmp.file("kh"));
  BOOST_TEST(e.code == error_code::libssh);
  BOOST_TEST(e.domain == error_domain::libssh);
  BOOST_TEST(e.message == "libssh transport error: No user interaction callback provided: Can't "
                          "verify the session host key");
}

BOOST_AUTO_TEST_CASE(a_failing_remote_command_reports_its_exit_code_and_words) {
  NEED_PEERS();
  auto e = open_error(P.base("libssh2") + "socket=" + P.sshd->file("no-such-sock") +
                      "&keyfile=" + P.sshd->user_key() + "&known_hosts=" + P.sshd->known_hosts() +
                      "&proxy=native");
  BOOST_TEST(e.code == error_code::ssh);
  BOOST_TEST(e.message.rfind("SSH transport error: Remote command terminated with non-zero code: 1",
                             0) == 0,
             e.message);
  BOOST_TEST(contains(e.message, "cannot connect to"), e.message);
}

BOOST_AUTO_TEST_CASE(libssh2_cannot_connect_to_a_closed_port) {
  NEED_PEERS();
  auto port = interop::free_tcp_port();
  auto e = open_error("test+libssh2://root@127.0.0.1:" + std::to_string(port) +
                      "/default?keyfile=" + P.sshd->user_key());
  BOOST_TEST(e.code == error_code::system_error);
  BOOST_TEST(e.domain == error_domain::rpc);
  BOOST_TEST(e.message == "unable to connect to server at '127.0.0.1:" + std::to_string(port) +
                              "': Connection refused");
}

// --- the same errors as libvirt's own client ------------------------------------

BOOST_AUTO_TEST_CASE(libssh2_errors_match_python_libvirt_for_the_same_uris) {
  NEED_PEERS();
  if (::access(interop::system_python, X_OK) != 0 ||
      interop::run_process({interop::system_python, "-c", "import libvirt"}).exit_code != 0) {
    BOOST_TEST_MESSAGE("skipped: python3-libvirt is not installed");
    return;
  }
  interop::temp_dir tmp;
  auto base = P.base("libssh2") + "socket=" + P.daemon->rw_socket() + "&known_hosts=";
  std::vector<std::string> uris = {
      base + P.sshd->wrong_known_hosts() + "&keyfile=" + P.sshd->user_key(),
      base + tmp.file("unknown") + "&keyfile=" + P.sshd->user_key(),
      base + P.sshd->known_hosts() + "&keyfile=" + P.sshd->rogue_key() + "&sshauth=privkey",
      base + P.sshd->known_hosts() + "&keyfile=" + P.sshd->rogue_key(),
      base + P.sshd->known_hosts() + "&keyfile=" + P.sshd->passphrase_key() + "&sshauth=privkey",
      P.base("libssh") + "known_hosts=" + tmp.file("unknown") + "&keyfile=" + P.sshd->user_key(),
      "test+libssh2://root@127.0.0.1:" + std::to_string(interop::free_tcp_port()) + "/default",
  };
  std::string script = "import libvirt, sys\n"
                       "libvirt.registerErrorHandler(lambda c, e: None, None)\n"
                       "try:\n"
                       "    libvirt.open(sys.argv[1])\n"
                       "    print('opened')\n"
                       "except libvirt.libvirtError as e:\n"
                       "    print(e.get_error_code()); print(e.get_error_domain())\n"
                       "    print(e.get_error_message())\n";
  for (const auto& uri : uris) {
    auto r = interop::run_process({interop::system_python, "-c", script, uri}, {}, 60s);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto ours = open_error(uri);
    auto expected = std::to_string(int(ours.code)) + "\n" + std::to_string(int(ours.domain)) +
                    "\n" + ours.message + "\n";
    BOOST_TEST(r.out == expected, uri << "\nlibvirt: " << r.out << "ours:    " << expected);
  }
}

// --- the shell and the real virsh ------------------------------------------------

BOOST_AUTO_TEST_CASE(the_virtactor_shell_lists_domains_over_ssh_and_libssh2) {
  NEED_PEERS();
#ifdef VA_VIRTACTOR_SHELL_PATH
  for (const auto& uri : {P.ssh_uri(), P.ssh_uri("&proxy=native"), P.libssh2_uri()}) {
    auto r = interop::run_process({VA_VIRTACTOR_SHELL_PATH, "-c", uri, "list", "--all"}, {}, 120s);
    BOOST_TEST(r.exit_code == 0, uri << ": " << r.err);
    BOOST_TEST(r.out == tests::list_all_text, uri);
  }
#else
  BOOST_TEST_MESSAGE("skipped: the virtactor shell is not part of this build");
#endif
}

BOOST_AUTO_TEST_CASE(the_virtactor_shell_asks_for_a_key_passphrase_at_the_console) {
  NEED_PEERS();
#ifdef VA_VIRTACTOR_SHELL_PATH
  auto uri = P.base("libssh2") + "socket=" + P.daemon->rw_socket() +
             "&keyfile=" + P.sshd->passphrase_key() + "&known_hosts=" + P.sshd->known_hosts() +
             "&sshauth=privkey";
  auto shell = [&](const std::string& answer) {
    return interop::run_process({"/bin/sh", "-c",
                                 "printf '" + answer + "\\n' | '" + VA_VIRTACTOR_SHELL_PATH +
                                     "' -c '" + uri + "' list --all"},
                                {}, 120s);
  };
  auto prompt = "Passphrase for key '" + P.sshd->passphrase_key() + "': ";
  auto r = shell("secret");
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == prompt + tests::list_all_text);
  r = shell("wrong");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out == prompt);
  BOOST_TEST(r.err.find("error: failed to connect to the hypervisor") == 0, r.err);
#else
  BOOST_TEST_MESSAGE("skipped: the virtactor shell is not part of this build");
#endif
}

BOOST_AUTO_TEST_CASE(the_real_virsh_lists_virtactords_domains_over_ssh) {
  NEED_PEERS();
  if (::access("/usr/bin/virsh", X_OK) != 0) {
    BOOST_TEST_MESSAGE("skipped: virsh is not installed (CI installs libvirt-clients)");
    return;
  }
  // Through nc on the far side: libvirt's own client, our daemon.
  auto nc_uri = P.base("ssh") + "socket=" + P.daemon->rw_socket() +
                "&keyfile=" + P.sshd->user_key() + "&no_verify=1&command=" + P.sshd->ssh_wrapper();
  auto r = interop::run_process({"/usr/bin/virsh", "-c", nc_uri, "list", "--all"}, {}, 120s);
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == tests::list_all_text);
  // Through our helper as virt-ssh-helper: libvirt 9.0 gives the helper the
  // `name=` URI, which can carry the socket our helper honours.
  auto helper_uri = P.base("ssh") + "keyfile=" + P.sshd->user_key() +
                    "&no_verify=1&command=" + P.sshd->ssh_wrapper() +
                    "&proxy=native&name=test:///default?socket=" + P.daemon->rw_socket();
  r = interop::run_process({"/usr/bin/virsh", "-c", helper_uri, "list", "--all"}, {}, 120s);
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == tests::list_all_text);
}

// --- nothing left behind ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(many_opens_and_closes_leave_no_descriptors_or_children_behind) {
  NEED_PEERS();
  // Warm up: the actor system, libssh2 and the process monitor start once.
  list_through(P.ssh_uri());
  list_through(P.libssh2_uri());
  BOOST_REQUIRE(interop::wait_until(
      [&] {
        return tests::children_except(P.pids()).empty() && unreaped_stream_processes() == 0;
      },
      20s));
  auto baseline = tests::open_fds();
  for (int i = 0; i < 15; ++i) {
    for (const auto& uri : {P.ssh_uri(), P.libssh2_uri()}) {
      auto c = blocking_connection::open(uri);
      BOOST_REQUIRE_MESSAGE(c.ok(), uri << ": " << (c.ok() ? "" : c.error().message));
      BOOST_TEST(domain_names(**c).size() == 1u);
    }
  }
  // Failed opens must not leak either.
  for (int i = 0; i < 5; ++i) {
    (void)blocking_connection::open(P.ssh_uri("&keyfile=" + P.sshd->rogue_key()));
    (void)blocking_connection::open(P.base("libssh2") + "keyfile=" + P.sshd->rogue_key() +
                                    "&known_hosts=" + P.sshd->known_hosts());
  }
  expect_nothing_left(baseline, P.pids());
}
