// The state store: one contract for the file store and the in-memory fake,
// the file store's modes and clean-up, and atomic replacement under SIGKILL.
#define BOOST_TEST_MODULE conf_state_store
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/conf/state_store.hpp"
#include "tests/drivers/conf/memory_store.hpp"
#include "tests/interop/harness.hpp"

using namespace virtactor;
using namespace virtactor::drivers::conf;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<state_store> open_store(const fs::path& dir) {
  auto s = open_file_store(dir.string());
  BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
  return std::move(*s);
}

/// The behaviour every store shares.
void check_contract(state_store& s) {
  BOOST_TEST(s.load("vm1.xml")->has_value() == false);
  BOOST_TEST(s.save("vm1.xml", "<domain>one</domain>").ok());
  BOOST_TEST(**s.load("vm1.xml") == "<domain>one</domain>");
  BOOST_TEST(s.save("vm1.xml", "<domain>two</domain>").ok());
  BOOST_TEST(**s.load("vm1.xml") == "<domain>two</domain>");
  BOOST_TEST(s.save("b.xml", "").ok());
  BOOST_TEST(**s.load("b.xml") == "");
  BOOST_TEST(s.save("vm1.pid", "42\n").ok());
  BOOST_TEST((*s.list(".xml") == std::vector<std::string>{"b.xml", "vm1.xml"}));
  BOOST_TEST((*s.list() == std::vector<std::string>{"b.xml", "vm1.pid", "vm1.xml"}));
  BOOST_TEST(s.remove("b.xml").ok());
  BOOST_TEST(s.remove("b.xml").ok()); // already gone: fine
  BOOST_TEST(s.load("b.xml")->has_value() == false);
  BOOST_TEST((*s.list(".xml") == std::vector<std::string>{"vm1.xml"}));
  for (const std::string& bad :
       std::vector<std::string>{"", ".hidden", "a/b", "..", std::string("a\0b", 3)}) {
    auto r = s.save(bad, "x");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message.find("invalid document name") != std::string::npos);
    BOOST_TEST(!s.load(bad).ok());
    BOOST_TEST(!s.remove(bad).ok());
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(the_file_store_keeps_the_store_contract) {
  interop::temp_dir d;
  auto s = open_store(fs::path{d.path()} / "qemu");
  check_contract(*s);
}

BOOST_AUTO_TEST_CASE(the_memory_fake_keeps_the_store_contract) {
  testing::memory_store s;
  check_contract(s);
  s.fail_next_write(make_virt_error(error_code::system_error, error_domain::conf, "disk full"));
  auto r = s.save("vm1.xml", "three");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "disk full");
  BOOST_TEST(**s.load("vm1.xml") == "<domain>two</domain>");
  BOOST_TEST(s.save("vm1.xml", "three").ok());
}

BOOST_AUTO_TEST_CASE(files_are_private_and_the_directory_is_created_private) {
  interop::temp_dir d;
  auto dir = fs::path{d.path()} / "a" / "b";
  auto s = open_store(dir);
  BOOST_TEST(fs::is_directory(dir));
  struct stat st{};
  BOOST_TEST_REQUIRE(::stat(dir.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0700u);
  BOOST_TEST_REQUIRE(s->save("vm.xml", "secret").ok());
  BOOST_TEST_REQUIRE(::stat((dir / "vm.xml").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0600u);
  // Nothing but the document is left in the directory.
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    BOOST_TEST(e.path().filename() == "vm.xml");
    ++entries;
  }
  BOOST_TEST(entries == 1u);
}

BOOST_AUTO_TEST_CASE(temporaries_left_by_a_crash_are_removed_and_never_listed) {
  interop::temp_dir d;
  {
    auto s = open_store(fs::path{d.path()});
    BOOST_TEST_REQUIRE(s->save("vm.xml", "v1").ok());
  }
  for (auto name : {".vm.xml.tmp-abc123", ".other.tmp-zzzzzz"}) {
    auto fd = ::open((fs::path{d.path()} / name).c_str(), O_CREAT | O_WRONLY, 0600);
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_TEST(::write(fd, "half", 4) == 4);
    ::close(fd);
  }
  auto before = open_store(fs::path{d.path()}); // opening cleans up
  BOOST_TEST(!fs::exists(fs::path{d.path()} / ".vm.xml.tmp-abc123"));
  BOOST_TEST(!fs::exists(fs::path{d.path()} / ".other.tmp-zzzzzz"));
  BOOST_TEST((*before->list() == std::vector<std::string>{"vm.xml"}));
  BOOST_TEST(**before->load("vm.xml") == "v1");
}

BOOST_AUTO_TEST_CASE(a_store_whose_directory_vanished_reports_clear_errors) {
  interop::temp_dir d;
  auto s = open_store(fs::path{d.path()} / "gone");
  fs::remove_all(fs::path{d.path()} / "gone");
  auto r = s->save("vm.xml", "x");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::system_error);
  BOOST_TEST(r.error().message.find("cannot create file") != std::string::npos);
  BOOST_TEST(r.error().message.find("No such file or directory") != std::string::npos);
  auto listed = s->list(); // an error, or the empty listing of an unlinked directory
  BOOST_TEST((!listed.ok() || listed->empty()));
  BOOST_TEST(s->load("vm.xml")->has_value() == false);
}

BOOST_AUTO_TEST_CASE(a_directory_where_a_document_should_be_is_a_clear_error) {
  interop::temp_dir d;
  auto s = open_store(fs::path{d.path()});
  fs::create_directory(fs::path{d.path()} / "vm.xml");
  auto r = s->load("vm.xml");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("Failed to read file") != std::string::npos);
  BOOST_TEST(!s->save("vm.xml", "x").ok());
  BOOST_TEST(s->list()->empty()); // a directory is not a document
}

// --- Atomicity: a writer killed with SIGKILL at random instants.

namespace {

/// Document `file` at `version`: sizes vary so that a torn write shows as a
/// wrong length or a wrong byte.
std::string content(int file, uint32_t version) {
  std::string out = "doc " + std::to_string(file) + " version " + std::to_string(version) + "\n";
  size_t size = 512 + (version * 7919u + static_cast<uint32_t>(file) * 104729u) % 40000u;
  for (size_t i = 0; i < size; ++i)
    out += static_cast<char>('a' + (i + version) % 26);
  return out + "\nend " + std::to_string(file) + " " + std::to_string(version) + "\n";
}

constexpr int files = 4;

struct report {
  uint32_t file;
  uint32_t version;
};

/// The writer: saves every file at version `first`, then `first + 1`, ...,
/// and reports each save that returned.
[[noreturn]] void writer(const std::string& dir, uint32_t first, int report_fd) {
  auto s = open_file_store(dir);
  if (!s)
    _exit(3);
  for (uint32_t v = first;; ++v)
    for (int f = 0; f < files; ++f) {
      if (!(*s)->save("doc" + std::to_string(f), content(f, v)).ok())
        _exit(4);
      report r{static_cast<uint32_t>(f), v};
      if (::write(report_fd, &r, sizeof r) != sizeof r)
        _exit(5);
    }
}

/// Reads one report, waiting at most 10 s; false at end of stream.
bool read_report(int fd, report& r) {
  pollfd p{fd, POLLIN, 0};
  BOOST_REQUIRE_MESSAGE(::poll(&p, 1, 10'000) == 1, "the writer went silent");
  auto n = ::read(fd, &r, sizeof r);
  BOOST_REQUIRE(n == 0 || n == sizeof r);
  return n == sizeof r;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_writer_killed_at_any_instant_leaves_old_or_new_never_partial) {
  interop::temp_dir d;
  std::mt19937 rng{std::random_device{}()};
  std::optional<uint32_t> confirmed[files]; // last version whose save returned
  uint32_t next_first = 1;
  int torn = 0, new_seen = 0, temporaries = 0;
  constexpr int rounds = 40;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    uint32_t first = next_first;
    pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      writer(d.path(), first, fds[1]);
    }
    ::close(fds[1]);
    // Let the writer get some saves done, then kill it at a random instant:
    // somewhere inside a later save (open, write, fsync, rename, fsync dir).
    std::optional<uint32_t> this_round[files];
    int before_kill = std::uniform_int_distribution<int>{0, 6}(rng);
    report r{};
    for (int i = 0; i < before_kill && read_report(fds[0], r); ++i)
      this_round[r.file] = r.version;
    std::this_thread::sleep_for(
      std::chrono::microseconds{std::uniform_int_distribution<int>{0, 3000}(rng)});
    BOOST_REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                          "the writer failed on its own: status " << status);
    while (read_report(fds[0], r))
      this_round[r.file] = r.version;
    ::close(fds[0]);

    for (auto& e : fs::directory_iterator(fs::path{d.path()}))
      if (e.path().filename().string().front() == '.')
        ++temporaries; // the kill landed inside a save
    auto s = open_store(fs::path{d.path()});
    for (int f = 0; f < files; ++f) {
      // The save in flight for f when the writer died: the next version.
      uint32_t in_flight = this_round[f] ? *this_round[f] + 1 : first;
      std::optional<uint32_t> old = this_round[f] ? this_round[f] : confirmed[f];
      auto text = s->load("doc" + std::to_string(f));
      BOOST_REQUIRE(text.ok());
      if (!text->has_value()) {
        BOOST_TEST_MESSAGE("doc" << f << " absent");
        BOOST_TEST(!old.has_value()); // never written yet: absent is the old state
        continue;
      }
      bool is_old = old && **text == content(f, *old);
      bool is_new = **text == content(f, in_flight);
      if (is_new)
        ++new_seen;
      if (!is_old && !is_new) {
        ++torn;
        BOOST_ERROR("round " << round << ": doc" << f << " is neither version "
                              << (old ? std::to_string(*old) : "none") << " nor " << in_flight
                              << ": " << text->value().substr(0, 40));
      }
      confirmed[f] = is_new ? in_flight : old;
    }
    for (int f = 0; f < files; ++f)
      if (this_round[f] && *this_round[f] + 2 > next_first)
        next_first = *this_round[f] + 2;
    next_first = std::max(next_first, first + 2);
    // No temporaries after the store reopened.
    for (auto& e : fs::directory_iterator(fs::path{d.path()}))
      BOOST_TEST(e.path().filename().string().front() != '.');
  }
  BOOST_TEST(torn == 0);
  BOOST_TEST_MESSAGE("documents found at their in-flight version: " << new_seen
                     << "; temporaries left by kills inside a save: " << temporaries);
}
