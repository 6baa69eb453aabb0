// The console's credential callbacks (virsh's virConnectAuthPtrDefault):
// prompts, answers, defaults, end of input, and questions it cannot answer.
#define BOOST_TEST_MODULE client_console_auth
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "client/console_auth.hpp"

using namespace virtactor;

namespace {

/// A stream holding `text`, read from the start.
std::FILE* input(const std::string& text) {
  std::FILE* f = std::tmpfile();
  std::fputs(text.c_str(), f);
  std::rewind(f);
  return f;
}

std::string contents(std::FILE* f) {
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;)
    s.push_back(static_cast<char>(c));
  return s;
}

/// The console's two streams, closed at the end of a test.
struct console_streams {
  std::FILE* in;
  std::FILE* out = std::tmpfile();
  explicit console_streams(const std::string& typed) : in(input(typed)) {}
  ~console_streams() {
    std::fclose(in);
    std::fclose(out);
  }
};

credential question(credential_type t, std::string prompt) {
  credential c;
  c.type = t;
  c.prompt = std::move(prompt);
  return c;
}

} // namespace

BOOST_AUTO_TEST_CASE(each_question_is_prompted_and_answered_with_one_line) {
  console_streams io{"alice\nsecret\n"};
  auto auth = client::console_auth(io.in, io.out);
  BOOST_TEST(auth->offers(credential_type::passphrase));
  BOOST_TEST(!auth->offers(credential_type::external));
  std::vector<credential> creds{question(credential_type::authname, "Username"),
                                question(credential_type::passphrase, "Passphrase for key 'k'")};
  BOOST_REQUIRE(auth->callback(creds));
  BOOST_TEST(creds[0].result.value_or("?") == "alice");
  BOOST_TEST(creds[1].result.value_or("?") == "secret");
  BOOST_TEST(contents(io.out) == "Username: Passphrase for key 'k': ");
}

BOOST_AUTO_TEST_CASE(an_empty_line_or_the_end_of_input_takes_the_default_or_nothing) {
  console_streams io{"\n"};
  auto auth = client::console_auth(io.in, io.out);
  auto host = question(credential_type::echoprompt, "Accept SSH host key (y/n)?");
  host.default_result = "n";
  std::vector<credential> creds{host, question(credential_type::noechoprompt, "Password")};
  BOOST_REQUIRE(auth->callback(creds));
  BOOST_TEST(creds[0].result.value_or("?") == "n");
  BOOST_TEST(creds[1].result.value_or("?") == ""); // end of input
}

BOOST_AUTO_TEST_CASE(a_question_it_cannot_answer_fails_the_batch) {
  console_streams io{"x\n"};
  auto auth = client::console_auth(io.in, io.out);
  std::vector<credential> creds{question(credential_type::external, "PolicyKit")};
  BOOST_TEST(!auth->callback(creds));
  BOOST_TEST(!creds[0].result.has_value());
}
