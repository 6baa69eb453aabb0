/// Shared pieces of the qemu runtime tests: a never-destroyed actor system,
/// a recorder actor that owns monitors and logs what reaches it in order,
/// and waiting for a condition with a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/error.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/qemu/monitor.hpp"
#include "drivers/qemu/process.hpp"
#include "tests/interop/harness.hpp"

extern char** environ;

namespace virtactor::qemu::testing {

using namespace std::chrono_literals;

/// One actor system for the whole test program. Never destroyed: CAF 0.17.6
/// misbehaves when a system dies during static destruction.
inline caf::actor_system& test_system() {
  static caf::actor_system* sys = [] {
    auto* cfg = new caf::actor_system_config;
    cfg->load<caf::io::middleman>();
    return new caf::actor_system(*cfg);
  }();
  return *sys;
}

/// Waits until `pred()` holds, at most `limit` (a deadline, not a sleep).
inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = 20'000ms) {
  return interop::wait_until(pred, limit, 2ms);
}

/// Entries of a /proc directory of this process (descriptors, threads).
inline size_t proc_entries(const char* dir) {
  size_t n = 0;
  if (DIR* d = ::opendir(dir)) {
    while (auto* e = ::readdir(d))
      n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

/// Open descriptors of this process (not counting the one that counts).
inline size_t open_fds() { return proc_entries("/proc/self/fd") - 1; }

/// Threads of this process.
inline size_t threads() { return proc_entries("/proc/self/task"); }

/// Starts `argv` as our child.
inline pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  BOOST_REQUIRE(::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0);
  return pid;
}

/// Starts `argv` as an orphan, its output into `output`: a shell starts it
/// in the background, prints its pid and exits, so that its parent becomes
/// PID 1 (or a subreaper), as a QEMU's does when its daemon exits.
inline pid_t orphan(const std::vector<std::string>& argv,
                    const std::string& output = "/dev/null") {
  std::string script = "\"$0\" \"$@\" </dev/null >'" + output + "' 2>&1 & echo $!";
  std::vector<char*> args{const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), script.data()};
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int p[2];
  BOOST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  pid_t sh = -1;
  int rc = ::posix_spawn(&sh, "/bin/sh", &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  BOOST_REQUIRE(rc == 0);
  std::string out;
  char buf[64];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status;
  BOOST_REQUIRE(::waitpid(sh, &status, 0) == sh);
  return static_cast<pid_t>(std::stol(out));
}

/// What reached a recorder, in the order it handled it.
class journal {
public:
  void add(std::string line) {
    {
      std::lock_guard<std::mutex> g{mtx_};
      lines_.push_back(std::move(line));
    }
    cv_.notify_all();
  }

  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> g{mtx_};
    return lines_;
  }

  /// Waits until a line starts with `prefix`; returns it ("" on timeout).
  std::string wait_for(const std::string& prefix, std::chrono::milliseconds limit = 20'000ms) {
    std::unique_lock<std::mutex> g{mtx_};
    std::string found;
    cv_.wait_for(g, limit, [&] {
      for (auto& l : lines_)
        if (l.starts_with(prefix)) {
          found = l;
          return true;
        }
      return false;
    });
    if (found.empty())
      BOOST_ERROR("no journal line starting with '" << prefix << "'; have: " << dump_locked());
    return found;
  }

  /// The index of the first line starting with `prefix`, or -1.
  int index_of(const std::string& prefix) const {
    std::lock_guard<std::mutex> g{mtx_};
    for (size_t i = 0; i < lines_.size(); ++i)
      if (lines_[i].starts_with(prefix))
        return static_cast<int>(i);
    return -1;
  }

  size_t count(const std::string& prefix) const {
    std::lock_guard<std::mutex> g{mtx_};
    size_t n = 0;
    for (auto& l : lines_)
      n += l.starts_with(prefix);
    return n;
  }

  std::string dump() const {
    std::lock_guard<std::mutex> g{mtx_};
    return dump_locked();
  }

private:
  std::string dump_locked() const {
    std::string out;
    for (auto& l : lines_)
      out += "\n  " + l;
    return out;
  }

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

using run_atom = caf::atom_constant<caf::atom("t_run")>;

inline const char* to_text(monitor_end why) {
  switch (why) {
    case monitor_end::eof:
      return "eof";
    case monitor_end::reset:
      return "reset";
    case monitor_end::io_error:
      return "io_error";
    case monitor_end::protocol_error:
      return "protocol_error";
  }
  return "?";
}

/// Shared between a test and its recorder: the journal and the monitor the
/// recorder sends commands to (set once the monitor exists).
struct recorder_state {
  journal log;
  monitor_actor monitor;
};

/// Owns a monitor and QEMU processes: logs "event NAME DATA", "closed WHY
/// REASON", "exited PID signaled CODE"; on (run, command, args, deadline)
/// asks the monitor and logs "reply COMMAND VALUE" or "error COMMAND TEXT".
inline caf::behavior recorder(caf::event_based_actor* self, std::shared_ptr<recorder_state> st) {
  // What the monitor and the launcher send a domain actor, wrapped as
  // (backend_atom, message).
  caf::message_handler backend{
    [st](qmp_event& e) { st->log.add("event " + e.name + " " + e.data); },
    [st](monitor_closed& c) {
      st->log.add(std::string{"closed "} + to_text(c.why) + " " + c.reason);
    },
    [st](process_exited& e) {
      st->log.add("exited " + std::to_string(e.pid) + " "
                  + (e.status_known ? (e.signaled ? "signal " : "code ") : "unknown ")
                  + std::to_string(e.code));
    },
  };
  return {
    [backend](drivers::conf::backend_atom, caf::message& m) mutable { m.apply(backend); },
    [self, st](run_atom, std::string& cmd, std::string& args, caf::timespan deadline) {
      self->request(st->monitor, caf::infinite, qmp_exec_atom::value, cmd, args, deadline)
        .then([st, cmd](std::string& r) { st->log.add("reply " + cmd + " " + r); },
              [st, cmd](caf::error& e) {
                st->log.add("error " + cmd + " " + from_caf_error(e).message);
              });
    },
  };
}

/// What `mon` reports about itself (asked with a 10 s timeout).
inline monitor_status status_of(const monitor_actor& mon) {
  caf::scoped_actor self{test_system()};
  monitor_status out;
  self->request(mon, std::chrono::seconds{10}, qmp_status_atom::value)
    .receive([&](monitor_status& s) { out = s; },
             [&](caf::error& e) { BOOST_ERROR("status: " << from_caf_error(e).message); });
  return out;
}

/// A recorder with its state.
struct recording {
  std::shared_ptr<recorder_state> st = std::make_shared<recorder_state>();
  caf::actor actor = test_system().spawn(recorder, st);

  ~recording() { caf::anon_send_exit(actor, caf::exit_reason::kill); }

  monitor_owner owner() const { return caf::actor_cast<monitor_owner>(actor); }

  /// Has the recorder run `cmd` (its result lands in the journal).
  void run(const std::string& cmd, const std::string& args = "",
           caf::timespan deadline = std::chrono::seconds{20}) {
    caf::anon_send(actor, run_atom::value, cmd, args, deadline);
  }

  journal& log() { return st->log; }
};

} // namespace virtactor::qemu::testing
