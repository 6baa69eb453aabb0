/// The QEMU end of a monitor connection, played by a test: it greets, reads
/// the commands the monitor writes and answers them as a test decides.
/// Blocking I/O with deadlines, on the test's own thread.
#pragma once

#include <cerrno>
#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/fd.hpp"

namespace virtactor::qemu::testing {

inline const std::string qmp_greeting =
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
  "\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n";

class fake_qemu {
public:
  explicit fake_qemu(unique_fd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }

  void send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      auto n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      BOOST_REQUIRE_MESSAGE(n > 0 || errno == EINTR, "fake QEMU cannot write");
      if (n > 0)
        off += static_cast<size_t>(n);
    }
  }

  /// Waits until bytes (or the end) can be read; false after `limit`.
  bool readable(std::chrono::milliseconds limit = std::chrono::seconds{20}) {
    if (buf_.find('\n') != std::string::npos)
      return true;
    pollfd p{fd_.get(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
  }

  /// The next line the monitor wrote, parsed.
  nlohmann::json next_command() {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        auto line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        BOOST_TEST_REQUIRE(line.ends_with("\r"));
        return nlohmann::json::parse(line);
      }
      BOOST_REQUIRE_MESSAGE(readable(), "the monitor wrote nothing");
      char tmp[4096];
      auto n = ::read(fd_.get(), tmp, sizeof tmp);
      BOOST_REQUIRE_MESSAGE(n > 0, "the monitor closed the connection");
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  /// Reads the next command and checks its name.
  nlohmann::json expect(const std::string& name) {
    auto cmd = next_command();
    BOOST_TEST(cmd.value("execute", "") == name);
    return cmd;
  }

  void reply(const nlohmann::json& cmd, const std::string& value) {
    send("{\"return\": " + value + ", \"id\": " + cmd.at("id").dump() + "}\r\n");
  }

  void fail(const nlohmann::json& cmd, const std::string& klass, const std::string& desc) {
    send("{\"id\": " + cmd.at("id").dump() + ", \"error\": {\"class\": \"" + klass
         + "\", \"desc\": \"" + desc + "\"}}\r\n");
  }

  void event(const std::string& name, const std::string& data = "") {
    send("{\"timestamp\": {\"seconds\": 1796198187, \"microseconds\": 294082}, \"event\": \""
         + name + "\"" + (data.empty() ? "" : ", \"data\": " + data) + "}\r\n");
  }

  /// Greeting and capabilities negotiation, as QEMU does them.
  void negotiate() {
    send(qmp_greeting);
    reply(expect("qmp_capabilities"), "{}");
  }

  /// Reads until the monitor closes its end; false if it does not within `limit`.
  bool sees_end(std::chrono::milliseconds limit = std::chrono::seconds{20}) {
    auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readable(left))
        return false;
      char tmp[4096];
      auto n = ::read(fd_.get(), tmp, sizeof tmp);
      if (n <= 0)
        return true;
    }
  }

  /// Closes our end: an orderly end of file for the monitor.
  void close() { fd_.reset(); }

private:
  unique_fd fd_;
  std::string buf_;
};

} // namespace virtactor::qemu::testing
