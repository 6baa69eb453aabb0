// The monitor actor against a fake QEMU on a socketpair: negotiation,
// queuing, replies by id, events before replies, deadlines, the ends of a
// stream (EOF, ECONNRESET, garbage, close, a dead owner), no leaks.
#define BOOST_TEST_MODULE qemu_monitor
#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include <sys/socket.h>

#include "tests/drivers/qemu/fake_qemu.hpp"
#include "tests/drivers/qemu/test_support.hpp"

using namespace virtactor;
using namespace virtactor::qemu;
using namespace virtactor::qemu::testing;

namespace {

/// A monitor for domain "vm1" over a socketpair, owned by a recorder.
struct fixture {
  recording rec;
  std::unique_ptr<fake_qemu> qemu;
  monitor_actor mon;

  fixture() {
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    qemu = std::make_unique<fake_qemu>(unique_fd{sv[1]});
    mon = spawn_monitor(test_system(), unique_fd{sv[0]}, rec.owner(), monitor_options{"vm1"});
    rec.st->monitor = mon;
  }

  ~fixture() { caf::anon_send(mon, close_atom::value); }

  journal& log() { return rec.log(); }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(greeting_then_capabilities_then_commands_flow, fixture) {
  BOOST_TEST(!status_of(mon).greeted);
  qemu->negotiate();
  BOOST_TEST_REQUIRE(wait_until([&] { return status_of(mon).ready; }));
  auto st = status_of(mon);
  BOOST_TEST(st.greeting.find("\"package\":\"Debian 1:7.2+dfsg-7+deb12u18+b3\"") != std::string::npos);
  rec.run("query-status");
  auto cmd = qemu->expect("query-status");
  BOOST_TEST(!cmd.contains("arguments"));
  qemu->reply(cmd, R"({"status": "prelaunch", "singlestep": false, "running": false})");
  BOOST_TEST(log().wait_for("reply query-status")
             == R"(reply query-status {"running":false,"singlestep":false,"status":"prelaunch"})");
  rec.run("balloon", R"({"value": 67108864})");
  cmd = qemu->expect("balloon");
  BOOST_TEST(cmd["arguments"]["value"] == 67108864);
  qemu->reply(cmd, "{}");
  BOOST_TEST(log().wait_for("reply balloon") == "reply balloon {}");
}

BOOST_FIXTURE_TEST_CASE(commands_asked_before_negotiation_wait_for_it, fixture) {
  rec.run("query-status");
  BOOST_TEST_REQUIRE(wait_until([&] { return status_of(mon).pending == 1; }));
  qemu->send(qmp_greeting);
  // Had the monitor sent query-status first, QEMU would refuse it; the first
  // line must be the negotiation.
  auto caps = qemu->next_command();
  BOOST_TEST_REQUIRE(caps.value("execute", "") == "qmp_capabilities");
  qemu->reply(caps, "{}");
  auto cmd = qemu->expect("query-status");
  BOOST_TEST(cmd.at("id") != caps.at("id"));
  qemu->reply(cmd, R"({"status": "running"})");
  BOOST_TEST(log().wait_for("reply query-status") == R"(reply query-status {"status":"running"})");
}

BOOST_FIXTURE_TEST_CASE(replies_are_matched_by_id_not_by_order, fixture) {
  qemu->negotiate();
  rec.run("query-name");
  auto a = qemu->expect("query-name");
  rec.run("query-uuid");
  auto b = qemu->expect("query-uuid");
  qemu->reply(b, R"({"UUID": "u"})");
  qemu->reply(a, R"({"name": "vm1"})");
  BOOST_TEST(log().wait_for("reply query-uuid") == R"(reply query-uuid {"UUID":"u"})");
  BOOST_TEST(log().wait_for("reply query-name") == R"(reply query-name {"name":"vm1"})");
}

BOOST_FIXTURE_TEST_CASE(an_event_before_a_reply_reaches_the_owner_before_the_reply, fixture) {
  qemu->negotiate();
  for (int i = 0; i < 20; ++i) {
    auto name = "cont" + std::to_string(i);
    rec.run(name);
    auto cmd = qemu->expect(name);
    qemu->event("RESUME");
    qemu->reply(cmd, "{}");
    log().wait_for("reply " + name);
  }
  auto lines = log().lines();
  BOOST_TEST_REQUIRE(lines.size() == 40u);
  for (size_t i = 0; i < lines.size(); i += 2) {
    BOOST_TEST(lines[i] == "event RESUME ");
    BOOST_TEST(lines[i + 1] == "reply cont" + std::to_string(i / 2) + " {}");
  }
}

BOOST_FIXTURE_TEST_CASE(events_arrive_in_order_with_their_data, fixture) {
  qemu->negotiate();
  for (int i = 0; i < 100; ++i)
    qemu->event(i % 2 ? "RESET" : "STOP",
                i % 2 ? R"({"guest": true, "reason": "guest-reset"})" : "");
  qemu->event("SHUTDOWN", R"({"guest": true, "reason": "guest-shutdown"})");
  log().wait_for("event SHUTDOWN");
  auto lines = log().lines();
  BOOST_TEST_REQUIRE(lines.size() == 101u);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(lines[i] == (i % 2 ? R"(event RESET {"guest":true,"reason":"guest-reset"})"
                                  : "event STOP "));
  BOOST_TEST(lines[100] == R"(event SHUTDOWN {"guest":true,"reason":"guest-shutdown"})");
}

BOOST_FIXTURE_TEST_CASE(a_large_reply_in_many_reads_arrives_whole, fixture) {
  qemu->negotiate();
  rec.run("query-qmp-schema");
  auto cmd = qemu->expect("query-qmp-schema");
  std::string big = "[";
  for (int i = 0; i < 20000; ++i)
    big += (i ? "," : "") + std::string{"{\"name\":\"n"} + std::to_string(i) + "\"}";
  big += "]";
  qemu->reply(cmd, big);
  BOOST_TEST(log().wait_for("reply query-qmp-schema") == "reply query-qmp-schema " + big);
}

BOOST_FIXTURE_TEST_CASE(an_error_reply_is_libvirts_command_error, fixture) {
  qemu->negotiate();
  rec.run("cont", R"({"bogus": 1})");
  qemu->fail(qemu->expect("cont"), "GenericError", "Parameter 'bogus' is unexpected");
  BOOST_TEST(log().wait_for("error cont")
             == "error cont internal error: unable to execute QEMU command 'cont': Parameter "
                "'bogus' is unexpected");
}

BOOST_FIXTURE_TEST_CASE(bad_arguments_are_refused_without_asking_qemu, fixture) {
  qemu->negotiate();
  rec.run("cont", "[1]");
  BOOST_TEST(log().wait_for("error cont")
             == "error cont internal error: invalid arguments for QEMU command 'cont': not a JSON "
                "object");
  BOOST_TEST(status_of(mon).pending == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_qemu_that_never_answers_gets_deadline_errors_and_the_monitor_stays_responsive,
                        fixture) {
  qemu->negotiate();
  rec.run("query-status", "", std::chrono::milliseconds{300});
  auto first = qemu->expect("query-status");
  rec.run("query-name", "", std::chrono::milliseconds{400});
  auto second = qemu->expect("query-name");
  // While both wait, the monitor answers at once.
  auto st = status_of(mon);
  BOOST_TEST(st.ready);
  BOOST_TEST(st.pending <= 2u);
  BOOST_TEST(log().wait_for("error query-status")
             == "error query-status Timed out during operation: the QEMU monitor of domain "
                "'vm1' did not answer 'query-status' within 300 ms");
  BOOST_TEST(log().wait_for("error query-name")
             == "error query-name Timed out during operation: the QEMU monitor of domain 'vm1' "
                "did not answer 'query-name' within 400 ms");
  BOOST_TEST(status_of(mon).pending == 0u);
  // Late replies are dropped by id; the next command gets its own reply.
  qemu->reply(first, R"({"status": "late"})");
  qemu->reply(second, R"({"name": "late"})");
  rec.run("query-uuid");
  qemu->reply(qemu->expect("query-uuid"), R"({"UUID": "fresh"})");
  BOOST_TEST(log().wait_for("reply query-uuid") == R"(reply query-uuid {"UUID":"fresh"})");
  BOOST_TEST(log().count("reply query-status") == 0u);
  BOOST_TEST(log().count("reply query-name") == 0u);
  BOOST_TEST(log().count("closed") == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_queued_command_times_out_too_when_qemu_never_greets, fixture) {
  rec.run("query-status", "", std::chrono::milliseconds{200});
  BOOST_TEST(log().wait_for("error query-status").find("within 200 ms") != std::string::npos);
  BOOST_TEST(status_of(mon).pending == 0u);
}

BOOST_FIXTURE_TEST_CASE(end_of_file_mid_command_fails_it_and_tells_the_owner_once, fixture) {
  qemu->negotiate();
  rec.run("query-status");
  qemu->expect("query-status");
  qemu->close();
  const std::string eof = "internal error: End of file from qemu monitor (vm='vm1')";
  BOOST_TEST(log().wait_for("error query-status") == "error query-status " + eof);
  BOOST_TEST(log().wait_for("closed") == "closed eof " + eof);
  // Later commands fail the same way, at once.
  rec.run("query-name");
  BOOST_TEST(log().wait_for("error query-name") == "error query-name " + eof);
  BOOST_TEST(log().count("closed") == 1u);
  BOOST_TEST(status_of(mon).ended);
}

BOOST_FIXTURE_TEST_CASE(a_reset_connection_is_reported_as_libvirt_does, fixture) {
  qemu->negotiate();
  rec.run("stop");
  // QEMU dies with our command unread: the kernel resets the connection.
  BOOST_TEST_REQUIRE(qemu->readable());
  qemu->close();
  const std::string reset = "Unable to read from monitor: Connection reset by peer";
  BOOST_TEST(log().wait_for("error stop") == "error stop " + reset);
  BOOST_TEST(log().wait_for("closed") == "closed reset " + reset);
}

BOOST_FIXTURE_TEST_CASE(garbage_from_qemu_fails_pending_commands_and_closes, fixture) {
  qemu->negotiate();
  rec.run("query-status");
  qemu->expect("query-status");
  qemu->event("RESUME");
  qemu->send("Hello, I am not QMP\r\n");
  auto closed = log().wait_for("closed");
  BOOST_TEST(closed.starts_with("closed protocol_error internal error: cannot parse json Hello, "
                                "I am not QMP: "));
  BOOST_TEST(log().wait_for("error query-status").starts_with("error query-status internal "
                                                              "error: cannot parse json"));
  BOOST_TEST(log().index_of("event RESUME") < log().index_of("closed"));
  BOOST_TEST(qemu->sees_end()); // the monitor closed the socket
}

BOOST_FIXTURE_TEST_CASE(a_refused_negotiation_ends_the_monitor, fixture) {
  rec.run("query-status");
  qemu->send(qmp_greeting);
  qemu->fail(qemu->expect("qmp_capabilities"), "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
  BOOST_TEST(log().wait_for("closed").starts_with(
    "closed protocol_error internal error: unable to execute QEMU command 'qmp_capabilities'"));
  BOOST_TEST(log().wait_for("error query-status").find("qmp_capabilities") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(closing_fails_what_is_pending_and_closes_the_socket, fixture) {
  qemu->negotiate();
  rec.run("query-status");
  qemu->expect("query-status");
  caf::anon_send(mon, close_atom::value);
  BOOST_TEST(log().wait_for("error query-status")
             == "error query-status operation failed: QEMU monitor was closed");
  BOOST_TEST(qemu->sees_end());
  BOOST_TEST(log().count("closed") == 0u); // the owner asked for it
}

BOOST_AUTO_TEST_CASE(the_monitor_ends_with_its_owner) {
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  fake_qemu qemu{unique_fd{sv[1]}};
  monitor_actor mon;
  {
    recording rec;
    mon = spawn_monitor(test_system(), unique_fd{sv[0]}, rec.owner(), monitor_options{"vm1"});
    qemu.negotiate();
  }
  BOOST_TEST(qemu.sees_end());
}

BOOST_AUTO_TEST_CASE(monitors_leak_no_descriptors_or_threads) {
  auto cycle = [] {
    int sv[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    fake_qemu qemu{unique_fd{sv[1]}};
    recording rec;
    auto mon = spawn_monitor(test_system(), unique_fd{sv[0]}, rec.owner(), monitor_options{"vm"});
    rec.st->monitor = mon;
    qemu.negotiate();
    rec.run("query-status");
    qemu.reply(qemu.expect("query-status"), "{}");
    rec.log().wait_for("reply query-status");
    caf::anon_send(mon, close_atom::value);
    BOOST_REQUIRE(qemu.sees_end());
  };
  test_system(); // its threads and descriptors are there for good
  auto fds = open_fds();
  auto thr = threads();
  for (int i = 0; i < 200; ++i)
    cycle();
  // An earlier case's descriptor may still be closing when the baseline is
  // taken, so the count may end below it; a leak would put it 200 above.
  BOOST_TEST(wait_until([&] { return open_fds() <= fds; }), "fds " << open_fds() << " vs " << fds);
  BOOST_TEST(threads() == thr);
}
