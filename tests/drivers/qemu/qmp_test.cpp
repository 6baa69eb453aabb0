// The QMP codec: lines cut from any split of the byte stream, classified,
// bounded; garbage is an error, never a crash; commands encoded.
#define BOOST_TEST_MODULE qemu_qmp
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "drivers/qemu/qmp.hpp"

using namespace virtactor;
using namespace virtactor::qemu;

namespace {

/// QEMU's side of a short session (from a real QEMU 7.2 transcript).
const std::string transcript =
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
  "\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n"
  "{\"return\": {}, \"id\": 1}\r\n"
  "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}, "
  "\"id\": 2}\r\n"
  "{\"timestamp\": {\"seconds\": 1796198187, \"microseconds\": 294082}, \"event\": "
  "\"RESUME\"}\r\n"
  "{\"return\": {}, \"id\": 3}\r\n"
  "{\"id\": 4, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
  "no-such-command has not been found\"}}\r\n"
  "{\"timestamp\": {\"seconds\": 1796198190, \"microseconds\": 7}, \"event\": \"SHUTDOWN\", "
  "\"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}\r\n";

std::vector<qmp::message> read_all(const std::string& bytes, size_t chunk) {
  qmp::reader r;
  std::vector<qmp::message> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    auto fed = r.feed(std::string_view{bytes}.substr(i, chunk), out);
    BOOST_REQUIRE_MESSAGE(fed.ok(), fed.error().message);
  }
  BOOST_TEST(r.buffered() == 0u);
  return out;
}

void check_transcript(const std::vector<qmp::message>& m) {
  BOOST_TEST_REQUIRE(m.size() == 7u);
  BOOST_TEST((m[0].kind == qmp::message_kind::greeting));
  BOOST_TEST(m[0].json.find("\"major\":7") != std::string::npos);
  BOOST_TEST((m[1].kind == qmp::message_kind::reply));
  BOOST_TEST(m[1].id == "1");
  BOOST_TEST(m[1].json == "{}");
  BOOST_TEST(m[2].json == R"({"running":false,"singlestep":false,"status":"prelaunch"})");
  BOOST_TEST((m[3].kind == qmp::message_kind::event));
  BOOST_TEST(m[3].event == "RESUME");
  BOOST_TEST(m[3].json == "");
  BOOST_TEST(m[3].id == "");
  BOOST_TEST(m[3].seconds == 1796198187);
  BOOST_TEST(m[3].microseconds == 294082);
  BOOST_TEST(m[4].id == "3");
  BOOST_TEST((m[5].kind == qmp::message_kind::error));
  BOOST_TEST(m[5].id == "4");
  BOOST_TEST(m[5].error_class == "CommandNotFound");
  BOOST_TEST(m[5].error_desc == "The command no-such-command has not been found");
  BOOST_TEST(m[6].event == "SHUTDOWN");
  BOOST_TEST(m[6].json == R"({"guest":true,"reason":"guest-shutdown"})");
  BOOST_TEST(m[6].microseconds == 7);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_transcript_read_whole_is_classified_in_order) {
  check_transcript(read_all(transcript, transcript.size()));
}

BOOST_AUTO_TEST_CASE(every_split_of_the_stream_gives_the_same_messages) {
  for (size_t chunk : {1u, 2u, 3u, 7u, 64u, 100u, 333u})
    check_transcript(read_all(transcript, chunk));
}

BOOST_AUTO_TEST_CASE(several_messages_in_one_read_and_a_partial_tail) {
  qmp::reader r;
  std::vector<qmp::message> out;
  BOOST_TEST(r.feed("{\"return\": 1, \"id\": 1}\r\n{\"return\": 2, \"id\": 2}\r\n{\"ret", out)
               .ok());
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].json == "2");
  BOOST_TEST(r.buffered() == 5u);
  BOOST_TEST(r.feed("urn\": 3, \"id\": \"x\"}\r", out).ok());
  BOOST_TEST(out.size() == 2u); // the "\n" has not come yet
  BOOST_TEST(r.feed("\n", out).ok());
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[2].json == "3");
  BOOST_TEST(out[2].id == "\"x\"");
}

BOOST_AUTO_TEST_CASE(blank_lines_and_bare_newlines_are_accepted) {
  qmp::reader r;
  std::vector<qmp::message> out;
  BOOST_TEST(r.feed("\r\n\n  \r\n{\"return\": {}, \"id\": 9}\n\n", out).ok());
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].id == "9");
}

BOOST_AUTO_TEST_CASE(garbage_is_an_error_that_sticks_after_the_good_messages) {
  qmp::reader r;
  std::vector<qmp::message> out;
  auto fed = r.feed("{\"return\": {}, \"id\": 1}\r\nthis is not json\r\n{\"return\": {}}\r\n",
                    out);
  BOOST_TEST_REQUIRE(!fed.ok());
  BOOST_TEST(out.size() == 1u);
  BOOST_TEST((fed.error().code == error_code::internal_error));
  BOOST_TEST((fed.error().domain == error_domain::qemu));
  BOOST_TEST(fed.error().message.starts_with("internal error: cannot parse json this is not json: "));
  // Stopped: later bytes give the same error and no messages.
  auto again = r.feed("{\"return\": {}, \"id\": 2}\r\n", out);
  BOOST_TEST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().message == fed.error().message);
  BOOST_TEST(out.size() == 1u);
}

BOOST_AUTO_TEST_CASE(each_kind_of_bad_line_has_libvirts_message) {
  struct sample {
    std::string line;
    std::string message;
  };
  std::vector<sample> samples = {
    {"[1, 2]", "internal error: Parsed JSON reply '[1, 2]' isn't an object"},
    {"42", "internal error: Parsed JSON reply '42' isn't an object"},
    {"{\"foo\": 1}", "internal error: Unknown JSON reply '{\"foo\": 1}'"},
    {"{\"event\": 5}", "internal error: Unknown JSON reply '{\"event\": 5}'"},
    {"{\"QMP\": 5}", "internal error: Unknown JSON reply '{\"QMP\": 5}'"},
    {"{\"event\": \"X\", \"timestamp\": {\"seconds\": \"a\", \"microseconds\": 1}}",
     "internal error: Unknown JSON reply '{\"event\": \"X\", \"timestamp\": {\"seconds\": \"a\", "
     "\"microseconds\": 1}}'"},
  };
  for (auto& s : samples) {
    auto m = qmp::parse_line(s.line);
    BOOST_TEST_REQUIRE(!m.ok(), s.line);
    BOOST_TEST(m.error().message == s.message);
  }
  for (const std::string& bad : std::vector<std::string>{"{\"return\": }", "{\"return\": \"\xff\xfe\"}", "{\"return\": 1} x",
                          std::string("{\"return\": \"a\0b\"}", 17), "\x1b[A", "{"}) {
    auto m = qmp::parse_line(bad);
    BOOST_TEST_REQUIRE(!m.ok());
    BOOST_TEST(m.error().message.starts_with("internal error: cannot parse json "));
  }
}

BOOST_AUTO_TEST_CASE(a_line_longer_than_the_bound_is_an_error_whether_split_or_whole) {
  constexpr size_t limit = 1024;
  std::string big = "{\"return\": \"" + std::string(2000, 'x') + "\"}\r\n";
  {
    qmp::reader r{limit};
    std::vector<qmp::message> out;
    auto fed = r.feed(big, out);
    BOOST_TEST_REQUIRE(!fed.ok());
    BOOST_TEST(fed.error().message
               == "internal error: QEMU monitor reply exceeds buffer size (1024 bytes)");
  }
  {
    qmp::reader r{limit};
    std::vector<qmp::message> out;
    bool failed = false;
    for (size_t i = 0; i < big.size() && !failed; i += 100) {
      failed = !r.feed(std::string_view{big}.substr(i, 100), out).ok();
      BOOST_TEST(r.buffered() <= limit + 100);
    }
    BOOST_TEST(failed);
  }
  {
    // Exactly at the bound: accepted.
    std::string fits = "{\"return\": \"" + std::string(limit - 14, 'y') + "\"}";
    BOOST_TEST_REQUIRE(fits.size() == limit);
    qmp::reader r{limit};
    std::vector<qmp::message> out;
    BOOST_TEST(r.feed(fits + "\r\n", out).ok());
    BOOST_TEST(out.size() == 1u);
  }
  {
    // Exactly at the bound, its "\r" in one read and its "\n" in the next:
    // accepted too (the fuzz target found this; fuzz-corpus/qmp/bound.txt).
    std::string fits = "{\"return\": \"" + std::string(limit - 14, 'y') + "\"}";
    qmp::reader r{limit};
    std::vector<qmp::message> out;
    auto first = r.feed(fits + "\r", out);
    BOOST_TEST(first.ok(), (first ? "" : first.error().message));
    BOOST_TEST(r.feed("\n", out).ok());
    BOOST_TEST(out.size() == 1u);
  }
}

BOOST_AUTO_TEST_CASE(an_endless_line_at_the_default_bound_stops_at_sixteen_mebibytes) {
  qmp::reader r;
  std::vector<qmp::message> out;
  std::string chunk(64 * 1024, 'z');
  size_t total = 0;
  result<void> fed;
  while ((fed = r.feed(chunk, out)).ok()) {
    total += chunk.size();
    BOOST_REQUIRE(total <= qmp::default_max_line + chunk.size());
  }
  BOOST_TEST(total >= qmp::default_max_line - chunk.size());
  BOOST_TEST(fed.error().message.find("exceeds buffer size (16777216 bytes)") != std::string::npos);
  BOOST_TEST(r.buffered() == 0u); // the buffer is released
}

BOOST_AUTO_TEST_CASE(a_number_past_a_doubles_range_is_an_error_not_an_exception) {
  // The fuzz target found this one (fuzz-corpus/qmp/number-overflow.txt).
  auto m = qmp::parse_line(R"({"return": {"actual": 1e503}, "id": 1})");
  BOOST_TEST_REQUIRE(!m.ok());
  BOOST_TEST(m.error().message.find("internal error: cannot parse json") == 0u, m.error().message);
  BOOST_TEST(m.error().message.find("number overflow") != std::string::npos, m.error().message);
  qmp::reader r;
  std::vector<qmp::message> out;
  BOOST_TEST(!r.feed("{\"return\": -1e400}\r\n", out).ok());
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_not_a_stack_overflow) {
  std::string deep = "{\"return\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto m = qmp::parse_line(deep);
  BOOST_TEST_REQUIRE(!m.ok());
  BOOST_TEST(m.error().message.find("nested deeper than 256 levels") != std::string::npos);
  BOOST_TEST(m.error().message.size() < 400u); // the line is cut in the message
  std::string fine = "{\"return\": " + std::string(100, '[') + std::string(100, ']') + "}";
  BOOST_TEST(qmp::parse_line(fine).ok());
}

BOOST_AUTO_TEST_CASE(events_between_replies_keep_their_place) {
  std::string bytes;
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    bytes += "{\"return\": {}, \"id\": " + std::to_string(i) + "}\r\n";
    expected.push_back("reply " + std::to_string(i));
    if (i % 3 == 0) {
      bytes += "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESET\", "
               "\"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}\r\n";
      expected.push_back("event RESET");
    }
  }
  auto m = read_all(bytes, 37);
  std::vector<std::string> got;
  for (auto& x : m)
    got.push_back(x.kind == qmp::message_kind::event ? "event " + x.event : "reply " + x.id);
  BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(commands_are_encoded_one_per_line) {
  BOOST_TEST(*qmp::encode_command("qmp_capabilities", "", 1)
             == "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n");
  BOOST_TEST(*qmp::encode_command("balloon", " {\"value\": 67108864} ", 12)
             == "{\"execute\":\"balloon\",\"arguments\":{\"value\":67108864},\"id\":12}\r\n");
  BOOST_TEST(*qmp::encode_command("qom-get", R"({"path":"/machine/peripheral/balloon0","property":"guest-stats"})", 3)
             == "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/balloon0\","
                "\"property\":\"guest-stats\"},\"id\":3}\r\n");
  BOOST_TEST(qmp::id_text(12) == "12");
  auto bad = qmp::encode_command("cont", "[1]", 1);
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message
             == "internal error: invalid arguments for QEMU command 'cont': not a JSON object");
  auto broken = qmp::encode_command("cont", "{", 1);
  BOOST_TEST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.error().message.starts_with(
    "internal error: invalid arguments for QEMU command 'cont': cannot parse json {: "));
  BOOST_TEST(!qmp::encode_command("", "", 1).ok());
  // What we encode, QEMU's reply side can parse back (a round trip of the id).
  auto back = qmp::parse_line("{\"return\": {}, \"id\": " + qmp::id_text(77) + "}");
  BOOST_TEST(back->id == qmp::id_text(77));
}

BOOST_AUTO_TEST_CASE(an_error_reply_becomes_libvirts_command_error) {
  auto m = qmp::parse_line(R"({"error": {"class": "GenericError", "desc": "Parameter 'bogus' is unexpected"}, "id": 5})");
  BOOST_TEST_REQUIRE(m.ok());
  auto e = qmp::command_error("cont", *m);
  BOOST_TEST((e.code == error_code::internal_error));
  BOOST_TEST((e.domain == error_domain::qemu));
  BOOST_TEST(e.message
             == "internal error: unable to execute QEMU command 'cont': Parameter 'bogus' is "
                "unexpected");
  auto bare = qmp::parse_line(R"({"error": {}, "id": 6})");
  BOOST_TEST(qmp::command_error("stop", *bare).message
             == "internal error: unable to execute QEMU command 'stop': unknown QEMU command error");
}
