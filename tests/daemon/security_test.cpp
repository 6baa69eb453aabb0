// virtactord against the probes of issue 12, each on its own daemon: socket
// ownership, the pid file lock, polkit refused, custom test-driver files
// (FIFO, large file, other users' files) asked for by an unprivileged client,
// connections that only send a 32 MiB length word, a client that stops
// reading, and the heap after thousands of clients came and went.
#define BOOST_TEST_MODULE daemon_security
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The daemon's heap in use (its status line).
uint64_t heap_in_use(daemon_process& d) {
  auto st = d.status();
  BOOST_TEST_REQUIRE(st.has_value(), d.log());
  return st->heap_in_use;
}

/// Runs `fn` in a child process as user `nobody` when the test runs as root
/// (as this user otherwise) and returns what it printed.
std::string as_unprivileged(const std::function<std::string()>& fn) {
  int fds[2];
  BOOST_TEST_REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      if (::geteuid() == 0) {
        auto nobody = ::getpwnam("nobody");
        if (!nobody || ::setgroups(0, nullptr) != 0 || ::setgid(nobody->pw_gid) != 0 ||
            ::setuid(nobody->pw_uid) != 0)
          throw std::runtime_error("cannot become nobody");
      }
      out = fn();
    } catch (const std::exception& e) {
      out = std::string{"exception: "} + e.what();
    }
    [[maybe_unused]] auto n = ::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

/// The message of CONNECT_OPEN of `uri` on `socket`, read-only ("" when it opened).
std::string open_error(const std::string& socket, const std::string& uri) {
  auto c = raw_client::unix_socket(socket);
  protocol::connect_open_args a{uri, 1};
  auto reply = c.call(static_cast<int32_t>(proc::connect_open), xdr::encode(a), 60s);
  if (!reply.is_error())
    return "";
  return reply.error().message.value_or("(no message)");
}

/// A daemon whose directory an unprivileged client can reach.
daemon_settings reachable(std::string config) {
  daemon_settings s;
  s.tcp = false;
  s.config = "unix_sock_ro_perms = \"0777\"\n" + config;
  return s;
}

void open_up(const daemon_process& d) {
  BOOST_TEST_REQUIRE(::chmod(d.dir().c_str(), 0755) == 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(the_socket_group_and_modes_are_applied_as_configured) {
  // Root may give the sockets any group; another user one of its own.
  auto nogroup = ::geteuid() == 0 ? ::getgrnam("nogroup") : ::getgrgid(::getegid());
  BOOST_TEST_REQUIRE(nogroup != nullptr);
  daemon_settings s;
  s.tcp = false;
  s.config = "unix_sock_group = \"" + std::string{nogroup->gr_name} +
             "\"\nunix_sock_rw_perms = \"0770\"\nunix_sock_ro_perms = \"0775\"\n";
  daemon_process d{s};
  struct stat rw {}, ro {};
  BOOST_TEST_REQUIRE(::stat(d.rw_socket().c_str(), &rw) == 0);
  BOOST_TEST_REQUIRE(::stat(d.ro_socket().c_str(), &ro) == 0);
  BOOST_TEST(rw.st_gid == nogroup->gr_gid);
  BOOST_TEST(ro.st_gid == nogroup->gr_gid);
  BOOST_TEST((rw.st_mode & 07777) == 0770u);
  BOOST_TEST((ro.st_mode & 07777) == 0775u);
  BOOST_TEST(rw.st_uid == ::geteuid());
}

BOOST_AUTO_TEST_CASE(an_unknown_group_and_polkit_stop_the_start_with_a_clear_error) {
  struct row {
    std::string config;
    std::string message;
  };
  for (auto& r : std::vector<row>{
         {"unix_sock_group = \"nosuchgroup\"",
          "virtactord: invalid argument: Failed to parse group 'nosuchgroup'"},
         {"auth_unix_rw = \"polkit\"",
          "auth \"polkit\" for 'auth_unix_rw' is not supported: virtactord has no polkit"}}) {
    BOOST_TEST_CONTEXT(r.config) {
      daemon_settings s;
      s.tcp = false;
      s.config = r.config;
      std::string error;
      try {
        daemon_process d{s};
      } catch (const std::runtime_error& e) {
        error = e.what();
      }
      BOOST_TEST(has(error, r.message), error);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_second_daemon_with_the_same_pid_file_is_refused_and_leaves_it) {
  daemon_settings s;
  s.tcp = false;
  daemon_process first{s};
  temp_dir other;
  write_file(other.file("c.conf"), "unix_sock_dir = \"" + other.path() + "\"\n");
  auto second = run_process(
    {virtactord_path(), "-f", other.file("c.conf"), "--pid-file", first.pid_file()}, {}, 60s);
  BOOST_TEST(second.exit_code == 1);
  BOOST_TEST(has(second.err, "Failed to acquire pid file '" + first.pid_file() + "'"),
             second.err);
  BOOST_TEST(!exists(other.file("libvirt-sock")), "the second daemon opened its sockets");
  BOOST_TEST(read_file(first.pid_file()) == std::to_string(first.pid()) + "\n");
  BOOST_TEST(first.running());
  BOOST_TEST(first.stop() == 0);
  BOOST_TEST(!exists(first.pid_file()));
}

BOOST_AUTO_TEST_CASE(custom_test_files_are_refused_for_daemon_clients_by_default) {
  daemon_process d{reachable("")};
  open_up(d);
  auto out = as_unprivileged([&] {
    return open_error(d.ro_socket(), "test:///proc/self/environ") + "\n" +
           open_error(d.ro_socket(), "test:///etc/passwd");
  });
  BOOST_TEST(has(out, "operation forbidden: custom test driver files are not opened for "
                           "clients of this daemon (allow_test_driver_files = 0)"),
             out);
  BOOST_TEST(!has(out, "PATH="), out);
  BOOST_TEST(!has(out, "root:"), out);
  // test:///default stays open to everyone.
  BOOST_TEST(as_unprivileged([&] { return open_error(d.ro_socket(), "test:///default"); }) == "");
}

BOOST_AUTO_TEST_CASE(an_unprivileged_client_reads_only_what_it_may_and_never_a_fifo) {
  daemon_process d{reachable("allow_test_driver_files = 1\nmax_test_driver_file_size = 1048576\n")};
  open_up(d);
  // A FIFO nobody writes to, a 16 MiB sparse file, a file only root may
  // read, and one with broken XML that the client may read.
  auto fifo = d.dir() + "/fifo.xml";
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0666) == 0);
  BOOST_TEST_REQUIRE(::chmod(fifo.c_str(), 0666) == 0);
  auto sparse = d.dir() + "/sparse.xml";
  write_file(sparse, "");
  BOOST_TEST_REQUIRE(::truncate(sparse.c_str(), 16 << 20) == 0);
  BOOST_TEST_REQUIRE(::chmod(sparse.c_str(), 0644) == 0);
  auto secret = d.dir() + "/secret.xml";
  write_file(secret, "<node><cpu><model>SECRET-MODEL</model></cpu></node>\n");
  BOOST_TEST_REQUIRE(::chmod(secret.c_str(), 0600) == 0);
  auto broken = d.dir() + "/broken.xml";
  write_file(broken, "<node>\nMARKER-TEXT <unclosed\n");
  BOOST_TEST_REQUIRE(::chmod(broken.c_str(), 0644) == 0);

  auto fifo_error = as_unprivileged([&] { return open_error(d.ro_socket(), "test://" + fifo); });
  BOOST_TEST(has(fifo_error, "'" + fifo + "' is not a regular file"), fifo_error);
  auto big = as_unprivileged([&] { return open_error(d.ro_socket(), "test://" + sparse); });
  BOOST_TEST(has(big, "'" + sparse + "' is larger than 1048576 bytes"), big);
  BOOST_TEST(big.size() < 300u);
  auto shown = as_unprivileged([&] { return open_error(d.ro_socket(), "test://" + broken); });
  BOOST_TEST(has(shown, broken + ":"), shown);
  BOOST_TEST(!has(shown, "MARKER-TEXT"), shown);
  if (::geteuid() == 0) {
    auto denied = as_unprivileged([&] { return open_error(d.ro_socket(), "test://" + secret); });
    BOOST_TEST(has(denied, "Permission denied"), denied);
    BOOST_TEST(!has(denied, "SECRET"), denied);
    auto environ =
      as_unprivileged([&] { return open_error(d.ro_socket(), "test:///proc/self/environ"); });
    BOOST_TEST(!has(environ, "PATH="), environ);
    // Root, the file's owner, opens it.
    BOOST_TEST(open_error(d.ro_socket(), "test://" + secret) == "");
  }
  // The daemon never waited on the FIFO: a client opens test:///default at once.
  BOOST_TEST(open_error(d.ro_socket(), "test:///default") == "");
}

BOOST_AUTO_TEST_CASE(a_shared_test_state_is_checked_for_each_client_that_opens_it) {
  if (::geteuid() != 0)
    return; // needs a second user
  daemon_process d{reachable("allow_test_driver_files = 1\n")};
  open_up(d);
  auto path = d.dir() + "/private.xml";
  write_file(path, "<node><cpu><model>PRIVATE</model></cpu></node>\n");
  BOOST_TEST_REQUIRE(::chmod(path.c_str(), 0600) == 0);
  // Root opens it and holds it open; nobody must still be refused.
  auto root = raw_client::unix_socket(d.ro_socket());
  root.open("test://" + path);
  auto denied = as_unprivileged([&] { return open_error(d.ro_socket(), "test://" + path); });
  BOOST_TEST(has(denied, "Permission denied"), denied);
}

BOOST_AUTO_TEST_CASE(length_words_of_32_mib_with_nothing_after_cost_almost_nothing) {
  daemon_settings s;
  s.tcp = false;
  s.config = "max_clients = 1000\n";
  daemon_process d{s};
  auto before = heap_in_use(d);
  std::vector<raw_client> stalled;
  for (int i = 0; i < 200; ++i) {
    stalled.push_back(raw_client::unix_socket(d.ro_socket()));
    uint32_t len = 33554436;
    char word[4] = {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                    static_cast<char>(len >> 8), static_cast<char>(len)};
    bool ok = stalled.back().send_bytes(word, 4);
    BOOST_TEST_REQUIRE(ok, "client " << i << ": " << std::strerror(errno) << d.log());
  }
  BOOST_TEST_REQUIRE(d.clients_become(200));
  auto after = heap_in_use(d);
  // Before the fix each such client cost 32 MiB; now a few KiB.
  BOOST_TEST(after < before + 200 * 64 * 1024, before << " -> " << after);
  auto c = raw_client::unix_socket(d.rw_socket());
  c.open();
  BOOST_TEST(c.call<proc::connect_get_type>().ok());
}

BOOST_AUTO_TEST_CASE(a_client_that_stops_reading_is_no_longer_read_and_then_dropped) {
  daemon_settings s;
  s.tcp = false;
  s.config = "max_client_pending_calls = 16\nmax_client_unsent_bytes = 65536\n"
             "keepalive_interval = 1\nkeepalive_count = 2\n";
  daemon_process d{s};
  auto stalled = raw_client::unix_socket(d.rw_socket());
  int small = 4096;
  ::setsockopt(stalled.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  stalled.open();
  auto ka = stalled.call<proc::connect_supports_feature>({10});
  BOOST_TEST_REQUIRE(ka.ok());
  ::fcntl(stalled.fd(), F_SETFL, ::fcntl(stalled.fd(), F_GETFL) | O_NONBLOCK);
  // Calls whose replies are large, sent until the daemon stops taking them.
  auto call = raw_client::frame(stalled.next_call(static_cast<int32_t>(proc::connect_get_capabilities)),
                                {});
  size_t sent = 0;
  bool blocked = wait_until(
    [&] {
      for (int i = 0; i < 64; ++i) {
        auto n = ::send(stalled.fd(), call.data(), call.size(), MSG_NOSIGNAL);
        if (n < 0)
          return errno == EAGAIN || errno == EPIPE || errno == ECONNRESET;
        sent += static_cast<size_t>(n);
      }
      return false;
    },
    60s, 1ms);
  BOOST_TEST(blocked, "the daemon took " << sent << " bytes of calls");
  // Others are served meanwhile.
  auto other = raw_client::unix_socket(d.rw_socket());
  other.open();
  BOOST_TEST(other.call<proc::connect_get_type>().ok());
  // Silent (it cannot even be read), the stalled client is dropped.
  BOOST_TEST(d.clients_become(1), d.log());
  BOOST_TEST(other.call<proc::connect_get_type>().ok());
}

BOOST_AUTO_TEST_CASE(the_heap_is_back_where_it_was_after_thousands_of_clients) {
  daemon_settings s;
  s.tcp = false;
  daemon_process d{s};
  auto cycle = [&] {
    auto c = raw_client::unix_socket(d.rw_socket());
    c.open();
    BOOST_TEST_REQUIRE(c.call<proc::connect_list_all_domains>({1, 0}).ok());
    c.call(static_cast<int32_t>(proc::connect_close));
  };
  // Warm up the allocator and CAF's caches, then measure.
  for (int i = 0; i < 300; ++i)
    cycle();
  BOOST_TEST_REQUIRE(d.clients_become(0));
  auto before = heap_in_use(d);
  for (int i = 0; i < 3000; ++i)
    cycle();
  BOOST_TEST_REQUIRE(d.clients_become(0));
  auto after = heap_in_use(d);
  // Slack for allocator caching only: a leak of even 100 bytes per client
  // would show as 300 KB.
  BOOST_TEST(after < before + 128 * 1024, before << " -> " << after);
}

BOOST_AUTO_TEST_CASE(xml_size_depth_and_error_text_are_bounded_by_their_keys) {
  daemon_settings s;
  s.tcp = false;
  s.config = "max_xml_size = 65536\nmax_xml_depth = 32\nmax_error_length = 200\n";
  daemon_process d{s};
  auto c = raw_client::unix_socket(d.rw_socket());
  c.open();
  auto define = [&](const std::string& xml) {
    return c.call<proc::domain_define_xml>(protocol::xml_args{xml});
  };
  std::string deep = "<domain type='test'><name>deep</name>";
  for (int i = 0; i < 40; ++i)
    deep += "<metadata>";
  for (int i = 0; i < 40; ++i)
    deep += "</metadata>";
  auto too_deep = define(deep + "</domain>");
  BOOST_TEST_REQUIRE(!too_deep.ok());
  BOOST_TEST(has(too_deep.error().message, "Excessive depth in document: 32 (max_xml_depth)"),
             too_deep.error().message);
  auto too_big = define("<domain type='test'><name>" + std::string(70000, 'x') + "</name></domain>");
  BOOST_TEST_REQUIRE(!too_big.ok());
  BOOST_TEST(has(too_big.error().message, "more than 65536 (max_xml_size)"),
             too_big.error().message);
  // A parse error quotes the line at fault: 60 KB on one line, cut to 200 bytes.
  auto broken = define("<domain type='test'><name>" + std::string(60000, 'y') + "</nam></domain>");
  BOOST_TEST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.error().message.size() <= 200u);
  BOOST_TEST(broken.error().message.ends_with("[truncated]"), broken.error().message);
  BOOST_TEST(c.call<proc::connect_get_type>().ok());
}

BOOST_AUTO_TEST_CASE(a_client_past_the_soft_bounds_gets_every_reply_once_it_reads) {
  daemon_settings s;
  s.tcp = false;
  s.config = "max_client_pending_calls = 4\nmax_client_pending_bytes = 4096\n"
             "max_client_unsent_bytes = 16384\n";
  daemon_process d{s};
  auto c = raw_client::unix_socket(d.rw_socket());
  c.open();
  // 400 calls with large replies, all sent before any reply is read: the
  // daemon stops and restarts reading this client many times.
  std::vector<uint32_t> serials;
  std::thread sender([&] {
    for (int i = 0; i < 400; ++i)
      serials.push_back(c.send_call(static_cast<int32_t>(proc::connect_get_capabilities)));
  });
  std::set<uint32_t> answered;
  raw_message m;
  while (answered.size() < 400 && c.read(m, 60s) == read_status::message)
    if (m.is_reply() && !m.is_error())
      answered.insert(m.hdr.serial);
  sender.join();
  BOOST_TEST(answered.size() == 400u);
  BOOST_TEST(c.call<proc::connect_get_type>().ok());
}
