// The qemu driver's domains: one QEMU process per running domain, started
// with -S and -no-shutdown, driven over its QMP monitor actor, watched by
// pidfd; libvirt 9.0's states, reasons and events (the QEMU fact sheet, §4).
//
// Nothing here waits: a monitor command is a request with a deadline whose
// reply (or timeout) arrives later as a message; QEMU's exit arrives as a
// message from the pidfd watcher. While a job waits on QEMU, the domain
// actor answers reads from what it knows, and destroy works by signals.

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>

#include <nlohmann/json.hpp>

#include "actors/error.hpp"
#include "actors/fd.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/conf/errors.hpp"
#include "drivers/qemu/command_line.hpp"
#include "drivers/qemu/dac.hpp"
#include "drivers/qemu/domain_stats.hpp"
#include "drivers/qemu/driver_context.hpp"
#include "drivers/qemu/monitor.hpp"
#include "drivers/qemu/pid_watcher.hpp"
#include "drivers/qemu/status.hpp"
#include "drivers/qemu/tap.hpp"

namespace virtactor::drivers::qemu {

namespace rt = virtactor::qemu;
using conf::domain_object;
using conf::domain_op;
using conf::domain_state;
using conf::done_fn;
using json = nlohmann::json;
namespace reason = conf::reason;
namespace detail = conf::detail;

conf::driver_traits qemu_traits() {
  conf::driver_traits t;
  t.prefix = "qemu";
  t.domain = error_domain::qemu;
  t.flags.create = 1;        // VIR_DOMAIN_START_PAUSED
  t.flags.destroy = 1 | 2;   // GRACEFUL | REMOVE_LOGS
  t.flags.shutdown = 1;      // VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
  t.flags.reboot = 1;        // VIR_DOMAIN_REBOOT_ACPI_POWER_BTN
  t.flags.undefine = 1 | 2;  // MANAGED_SAVE | SNAPSHOTS_METADATA
  t.max_vcpus = 0;           // the definition's maximum decides
  t.stats_groups = qemu_stats_groups;
  t.wording = conf::driver_wording::qemu;
  return t;
}

namespace {

constexpr int32_t reboot_event = static_cast<int32_t>(domain_event_id::reboot);

/// QEMU exited before its monitor told how the connection ended: the exit
/// waits for that (or this timer) so that a CONTROL_ERROR comes first.
using exit_wait_atom = caf::atom_constant<caf::atom("va_exitw")>;

/// How long QEMU's exit waits for its monitor's end (which follows at once:
/// the kernel closes the socket before it reports the exit).
constexpr auto monitor_end_wait = std::chrono::seconds{2};

constexpr int32_t control_error_event = static_cast<int32_t>(domain_event_id::control_error);

virt_error failed(const std::string& what) {
  return make_virt_error(error_code::operation_failed, error_domain::qemu,
                         "operation failed: " + what);
}

virt_error unsupported(const std::string& what) {
  return make_virt_error(error_code::operation_unsupported, error_domain::qemu,
                         "Operation not supported: " + what);
}

/// Opens what the command line passes to QEMU besides the monitor (the
/// launcher makes that): per entry of `fds`, its descriptor here (empty for
/// the monitor). Serial files are opened for appending (0600, as libvirt),
/// serial sockets in bind mode are made listening (0600; a stale socket
/// file is replaced, a live one refused).
/// `taps`: the tap devices made for the interfaces, by name (they are moved out).
result<std::vector<unique_fd>> open_passed_fds(const std::vector<passed_fd>& fds,
                                               std::map<std::string, unique_fd>& taps) {
  std::vector<unique_fd> out;
  for (auto& f : fds) {
    switch (f.what) {
      case passed_fd::kind::monitor:
        out.emplace_back();
        break;
      case passed_fd::kind::file_append: {
        unique_fd fd{::open(f.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)};
        if (!fd)
          return make_virt_error(error_code::system_error, error_domain::qemu,
                                 "Unable to open '" + f.path + "': " + std::strerror(errno));
        out.push_back(std::move(fd));
        break;
      }
      case passed_fd::kind::unix_listen: {
        auto fd = listen_unix(f.path, 0600);
        if (!fd)
          return fd.error();
        out.push_back(std::move(*fd));
        break;
      }
      case passed_fd::kind::tap: {
        auto i = taps.find(f.path);
        if (i == taps.end() || !i->second)
          return make_virt_error(error_code::internal_error, error_domain::qemu,
                                 "internal error: no tap device '" + f.path + "'");
        out.push_back(std::move(i->second));
        break;
      }
    }
  }
  return out;
}

/// Makes the tap of every interface of type bridge (its name goes into the
/// live definition); refuses what the driver cannot connect. Taps live as
/// long as a descriptor does: dropped here, they vanish.
result<std::map<std::string, unique_fd>> make_taps(xml::domain_def& live, bool privileged) {
  std::map<std::string, unique_fd> taps;
  for (auto& net : live.devices.interfaces) {
    if (net.type == "user")
      continue;
    if (net.type == "network")
      // virtactor has no network driver on this connection (yet): there is
      // no network of that name, as libvirt says when it has none.
      return make_virt_error(error_code::no_network, error_domain::network,
                             "Network not found: no network with matching name '" + net.source
                               + "'");
    if (net.type != "bridge")
      return make_virt_error(error_code::config_unsupported, error_domain::qemu,
                             "unsupported configuration: interface type '" + net.type + "'");
    if (!privileged)
      return make_virt_error(
        error_code::config_unsupported, error_domain::qemu,
        "unsupported configuration: an interface of type 'bridge' needs the privileged daemon "
        "(qemu:///system): the per-user daemon cannot create tap devices");
    auto tap = rt::create_tap({net.target_dev, net.mac, net.source, net.model == "virtio"});
    if (!tap)
      return tap.error();
    net.target_dev = tap->name;
    taps.emplace(tap->name, std::move(tap->fd));
  }
  return taps;
}

/// A free TCP port on the VNC listen address, from 5900 up (autoport).
int free_vnc_port(const std::string& address) {
  for (int port = 5900; port < 65536; ++port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return 0;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = address == "0.0.0.0" ? htonl(INADDR_ANY) : htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    if (ok)
      return port;
  }
  return 0;
}

class qemu_domain final : public conf::domain_backend {
public:
  explicit qemu_domain(std::shared_ptr<driver_context> ctx) : ctx_(std::move(ctx)) {}

  ~qemu_domain() override {
    // The actor ends (daemon shutdown, a restart after a failure): QEMU
    // keeps running and a new actor adopts it from the status file.
    if (rt_ && rt_->pid > 0)
      ctx_->launcher->forget(rt_->pid);
  }

  // -- attach: a running domain found at start or after a restart --------------

  void attach(domain_object& obj, conf::domain_host& host) override {
    host_ = &host;
    obj_ = &obj;
    if (!obj.active())
      return;
    auto text = ctx_->statuses->load(status_name(obj.name));
    auto st = text && *text ? parse_status(**text) : result<domain_status>{failed("no status")};
    if (!st) {
      gone_while_away(obj, {});
      return;
    }
    rt_.emplace();
    rt_->pid = st->pid;
    rt_->start_time = st->start_time;
    rt_->monitor_path = st->monitor_path;
    rt_->domain_dir = st->domain_dir;
    rt_->chardevs = st->chardevs;
    rt_->graphics_ports = st->graphics_ports;
    rt_->balloon_kib = st->balloon_kib;
    rt_->shutdown_seen = st->shutdown_seen;
    rt_->fake_reboot = st->fake_reboot;
    rt_->definition = st->definition;
    rt_->owners = st->owners;
    rt::qemu_identity id{st->pid, st->start_time, st->monitor_path};
    auto emulator = obj.current().devices.emulator.empty() ? ctx_->cfg.emulator
                                                             : obj.current().devices.emulator;
    if (auto ok = ctx_->launcher->adopt(id, emulator, host.handle()); !ok) {
      rt_.reset();
      gone_while_away(obj, st->owners);
      return;
    }
    auto fd = rt::connect_monitor(rt_->monitor_path);
    if (!fd) {
      // The process lives but its monitor is gone: it cannot be managed.
      rt_->stopping = true;
      (void) ctx_->launcher->terminate(rt_->pid, std::chrono::milliseconds{0});
      return;
    }
    spawn_monitor(std::move(*fd), obj.name);
    // Reconcile with what QEMU says, silently (libvirt's reconnect).
    exec("query-status", "", [this](result<json> r) {
      if (!r || !obj_->active())
        return;
      reconcile((*r).value("status", std::string{}), (*r).value("running", false));
      save_status();
    });
  }

  // -- lifecycle ----------------------------------------------------------------

  void start(domain_op op, done_fn done) override {
    auto& obj = op.obj;
    if (obj.active() && obj.state != domain_state::shutoff)
      return done(conf::errors::operation_invalid("domain is already running",
                                                  error_domain::qemu));
    bool paused = (op.flags & 1u) != 0;
    // The definition to start: the live one CREATE_XML set, else the persistent one.
    xml::domain_def def = obj.live ? *obj.live : *obj.config;
    if (auto ok = check_startable(def, ctx_->facts); !ok)
      return done(ok.error());
    int32_t id = host_->context().next_domain_id();
    start_facts facts;
    facts.resource_partition = ctx_->cfg.privileged ? "/machine" : "";
    facts.seclabel = ctx_->seclabel;
    auto live = live_definition(def, facts);
    runtime_facts rtf;
    rtf.domain_dir = ctx_->cfg.lib_dir + "/domain-" + std::to_string(id) + "-" + obj.name;
    for (auto& g : live.devices.graphics) {
      int port = g.port;
      if (g.autoport || port <= 0)
        port = free_vnc_port(g.listen);
      rtf.graphics_ports.push_back(port);
      g.port = port;
    }
    rtf.now = static_cast<int64_t>(::time(nullptr));
    auto taps = make_taps(live, ctx_->cfg.privileged);
    if (!taps)
      return done(taps.error());
    auto cmd = build_command_line(live, rtf);
    if (!cmd)
      return done(cmd.error());
    auto passed = open_passed_fds(cmd->fds, *taps);
    if (!passed)
      return done(passed.error());
    rt::launch_spec spec;
    for (size_t i = 0; i < cmd->fds.size(); ++i)
      if (cmd->fds[i].what != passed_fd::kind::monitor)
        spec.inherited.emplace_back(cmd->fds[i].fd, (*passed)[i].get());
    spec.name = obj.name;
    spec.argv = cmd->argv;
    spec.domain_dir = rtf.domain_dir;
    spec.log_path = ctx_->cfg.log_dir + "/" + obj.name + ".log";
    spec.pid_path = ctx_->cfg.run_dir + "/" + obj.name + ".pid";
    spec.qemu_version = ctx_->qemu_version_text;
    if (ctx_->cfg.privileged)
      spec.user = run_as_of(ctx_->cfg.account);
    // DAC: the files QEMU opens go to its account (dac.hpp).
    auto owners = dac_prepare(live, ctx_->cfg);
    if (!owners)
      return done(owners.error());
    auto started = ctx_->launcher->start(spec, host_->handle());
    if (!started) {
      dac_restore(*owners);
      return done(started.error());
    }
    rt_.emplace();
    rt_->owners = std::move(*owners);
    rt_->pid = started->id.pid;
    rt_->start_time = started->id.start_time;
    rt_->monitor_path = started->id.monitor_path;
    rt_->domain_dir = rtf.domain_dir;
    rt_->graphics_ports = rtf.graphics_ports;
    rt_->definition = xml::format_domain(def, xml::domain_format{-1, true, true});
    rt_->starting = true;
    spawn_monitor(std::move(started->monitor), obj.name);
    // libvirt's state while QEMU comes up: paused, starting up.
    obj.live = std::move(live);
    obj.mark_started(id, reason::running_booted);
    obj.set_state(domain_state::paused, reason::paused_starting_up);
    rt_->resume_reason = reason::running_booted;
    save_status();
    auto fail = [this, done](virt_error err) {
      // A start that fails leaves nothing behind: QEMU goes, quietly, and
      // the domain is shut off (failed) at once, as libvirt leaves it.
      if (rt_ && !rt_->exited) {
        rt_->start_failed = true;
        rt_->stopping = true;
        (void) ctx_->launcher->terminate(rt_->pid, std::chrono::milliseconds{0});
        cleanup();
      }
      if (obj_->active())
        obj_->mark_stopped(reason::shutoff_failed);
      done(std::move(err));
    };
    exec("query-chardev", "", [this, fail, paused, done](result<json> r) {
      if (!r)
        return fail(r.error());
      std::map<std::string, std::string> chardevs;
      for (auto& c : *r)
        chardevs[c.value("label", std::string{})] = c.value("filename", std::string{});
      if (!rt_ || rt_->exited || !obj_->active())
        return fail(failed("QEMU exited while starting"));
      rt_->chardevs = chardevs;
      set_chardev_paths(*obj_->live, chardevs);
      auto after_balloon = [this, fail, paused, done]() {
        if (paused) {
          rt_->starting = false;
          obj_->set_state(domain_state::paused, reason::paused_user);
          emit(lifecycle_event::started, detail::started_booted);
          emit(lifecycle_event::suspended, detail::suspended_paused);
          save_status();
          return done(result<void>{});
        }
        exec("cont", "", [this, fail, done](result<json> c) {
          if (!c)
            return fail(c.error());
          rt_->starting = false;
          if (obj_->state != domain_state::running) {
            // No RESUME event (yet): the reply says the CPUs run.
            obj_->set_state(domain_state::running, reason::running_booted);
            emit(lifecycle_event::resumed, detail::resumed_unpaused);
          }
          emit(lifecycle_event::started, detail::started_booted);
          save_status();
          done(result<void>{});
        });
      };
      auto& balloon = obj_->live->devices.memballoon;
      if (!balloon || balloon->model == "none")
        return after_balloon();
      // libvirt's balloon set-up: the target, then what the guest has (a
      // guest without a balloon driver keeps all its memory).
      json args = {{"value", obj_->live->memory.current_kib * 1024}};
      exec("balloon", args.dump(), [this, fail, after_balloon](result<json> b) {
        if (!b)
          return fail(b.error());
        exec("query-balloon", "", [this, fail, after_balloon](result<json> q) {
          if (!q)
            return fail(q.error());
          balloon_now(q->value("actual", uint64_t{0}));
          after_balloon();
        });
      });
    });
  }

  void destroy(domain_op op, done_fn done) override {
    auto& obj = op.obj;
    if (!obj.active() || !rt_)
      return done(conf::errors::domain_not_running());
    rt_->destroying = true;
    rt_->waiting_exit.push_back(std::move(done));
    // Signals, not the monitor: a hung QEMU is destroyed all the same.
    bool graceful = (op.flags & 1u) != 0;
    std::optional<std::chrono::milliseconds> kill_after;
    if (!graceful)
      kill_after = ctx_->cfg.destroy_grace;
    if (auto ok = ctx_->launcher->terminate(rt_->pid, kill_after); !ok) {
      auto waiting = std::move(rt_->waiting_exit);
      rt_->waiting_exit.clear();
      rt_->destroying = false;
      for (auto& d : waiting)
        d(ok.error());
    }
  }

  void shutdown(domain_op op, done_fn done) override {
    if (!running(op.obj))
      return done(conf::errors::domain_not_running());
    rt_->fake_reboot = false;
    exec("system_powerdown", "", [done](result<json> r) {
      done(r ? result<void>{} : result<void>{r.error()});
    });
  }

  void reboot(domain_op op, done_fn done) override {
    if (!running(op.obj))
      return done(conf::errors::domain_not_running());
    // libvirt's fake reboot: the guest powers off, QEMU (-no-shutdown) stays,
    // and the daemon resets it and lets it run again.
    rt_->fake_reboot = true;
    save_status();
    exec("system_powerdown", "", [done](result<json> r) {
      done(r ? result<void>{} : result<void>{r.error()});
    });
  }

  /// `qemuDomainReset`: the reset line; QEMU's RESET event becomes the
  /// REBOOT event. A pending fake reboot is over (the machine restarts now).
  void reset(domain_op op, done_fn done) override {
    if (!running(op.obj))
      return done(conf::errors::domain_not_running());
    exec("system_reset", "", [this, done](result<json> r) {
      if (!r)
        return done(r.error());
      rt_->fake_reboot = false;
      save_status();
      done(result<void>{});
    });
  }

  void suspend(domain_op op, done_fn done) override {
    if (!running(op.obj))
      return done(conf::errors::domain_not_running());
    if (op.obj.state == domain_state::paused)
      return done(result<void>{});
    rt_->pause_reason = reason::paused_user;
    exec("stop", "", [this, done](result<json> r) {
      if (!r)
        return done(r.error());
      paused_now(reason::paused_user);
      save_status();
      done(result<void>{});
    });
  }

  void resume(domain_op op, done_fn done) override {
    if (!running(op.obj))
      return done(conf::errors::domain_not_running());
    if (op.obj.state != domain_state::paused)
      return done(conf::errors::operation_invalid("domain is not paused", error_domain::qemu));
    rt_->resume_reason = reason::running_unpaused;
    exec("cont", "", [this, done](result<json> r) {
      if (!r)
        return done(r.error());
      resumed_now(reason::running_unpaused);
      save_status();
      done(result<void>{});
    });
  }

  void set_live_memory(domain_op op, uint64_t kib, done_fn done) override {
    if (!running(op.obj))
      return done(conf::errors::domain_not_running());
    // The live current memory follows the guest (BALLOON_CHANGE), as libvirt's.
    json args = {{"value", kib * 1024}};
    exec("balloon", args.dump(), [done](result<json> r) {
      done(r ? result<void>{} : result<void>{r.error()});
    });
  }

  void set_live_vcpus(domain_op, uint32_t, done_fn done) override {
    done(unsupported("changing the vCPUs of a running domain is not supported by "
                     "virtactor yet; use --config"));
  }

  uint64_t cpu_time_ns(const domain_object& obj) override {
    if (!obj.active() || !rt_)
      return 0;
    return process_cpu_ns(rt_->pid);
  }

  /// QEMU's CPU time, from /proc, for readers outside the actor: one clock
  /// per process (0 while the domain is inactive).
  struct process_cpu final : conf::cpu_clock {
    explicit process_cpu(int32_t p) : pid(p) {}
    int32_t pid;
    uint64_t cpu_time_ns() const override { return pid > 0 ? process_cpu_ns(pid) : 0; }
  };

  std::shared_ptr<const conf::cpu_clock> cpu_clock_of(const domain_object& obj) override {
    int32_t pid = obj.active() && rt_ ? rt_->pid : 0;
    if (!cpu_clock_ || cpu_clock_->pid != pid)
      cpu_clock_ = std::make_shared<const process_cpu>(pid);
    return cpu_clock_;
  }

  /// The first security driver's label, as libvirt reports it: its stack
  /// has "none" first (the DAC label is in the live XML's <seclabel>).
  protocol::domain_get_security_label_ret security_label(const domain_object&) override {
    return {};
  }

  std::string os_type(const domain_object& obj) override { return obj.current().os.type; }

  /// The groups' queries go to the monitor together, each with 4/5 of the
  /// driver's stats bound as its deadline, so that this record (with what
  /// /proc tells) reaches the state actor before the bound passes. Without
  /// an answer, or with NOWAIT while another command waits on the monitor,
  /// the record has the fields libvirt gives without the domain's job.
  void stats(const domain_object& obj, const conf::stats_request& req,
             conf::stats_done_fn done) override {
    conf::stats_params out;
    if (!running(obj)) {
      inactive_stats(out, req.groups, obj.current());
      return done(std::move(out));
    }
    auto live = std::make_shared<const xml::domain_def>(*obj.live);
    auto pid = rt_->pid;
    auto groups = req.groups;
    auto queries = stats_queries(groups, *live);
    bool usable = rt_->monitor && !(req.nowait && pending_ > 0);
    if (queries.empty() || !usable) {
      running_stats(out, groups, *live, read_process_facts(pid), {}, usable);
      return done(std::move(out));
    }
    struct gathering {
      stats_replies replies;
      size_t left = 0;
    };
    auto g = std::make_shared<gathering>();
    g->left = queries.size();
    auto deadline = caf::timespan{ctx_->traits.stats_timeout * 4 / 5};
    for (auto& q : queries)
      exec(q.command, q.arguments,
           [g, command = q.command, groups, live, pid, done](result<json> r) {
             if (r)
               g->replies[command] = r->dump();
             if (--g->left > 0)
               return;
             conf::stats_params params;
             running_stats(params, groups, *live, read_process_facts(pid), g->replies,
                           !g->replies.empty());
             done(std::move(params));
           },
           deadline);
  }

  // -- persistence ---------------------------------------------------------------

  result<void> save_config(const domain_object& obj) override {
    auto& def = obj.persistent_def();
    return ctx_->configs->save(obj.name + ".xml",
                               xml::format_domain(def, xml::domain_format{-1, true, true}));
  }

  result<void> remove_config(const domain_object& obj) override {
    if (auto ok = save_autostart(obj, false); !ok)
      return ok;
    return ctx_->configs->remove(obj.name + ".xml");
  }

  result<void> save_autostart(const domain_object& obj, bool on) override {
    if (on && !obj.persistent)
      return make_virt_error(error_code::operation_invalid, error_domain::qemu,
                             "Requested operation is not valid: cannot set autostart for "
                             "transient domain");
    auto link = ctx_->cfg.config_dir + "/autostart/" + obj.name + ".xml";
    if (!on) {
      if (::unlink(link.c_str()) != 0 && errno != ENOENT)
        return make_virt_error(error_code::system_error, error_domain::qemu,
                               "Failed to delete symlink '" + link + "': " + std::strerror(errno));
      return {};
    }
    ::mkdir((ctx_->cfg.config_dir + "/autostart").c_str(), 0700);
    auto target = ctx_->cfg.config_dir + "/" + obj.name + ".xml";
    ::unlink(link.c_str());
    if (::symlink(target.c_str(), link.c_str()) != 0)
      return make_virt_error(error_code::system_error, error_domain::qemu,
                             "Failed to create symlink '" + link + "' to '" + target +
                               "': " + std::strerror(errno));
    return {};
  }

  // -- what QEMU and the watcher tell us ----------------------------------------------

  void on_message(const caf::message& msg, domain_object&) override {
    if (msg.match_elements<rt::qmp_event>())
      on_event(msg.get_as<rt::qmp_event>(0));
    else if (msg.match_elements<rt::monitor_closed>())
      on_monitor_closed(msg.get_as<rt::monitor_closed>(0));
    else if (msg.match_elements<rt::process_exited>())
      on_exit(msg.get_as<rt::process_exited>(0));
    else if (msg.match_elements<exit_wait_atom>() && rt_ && rt_->exit_waiting)
      finish_exit();
  }

private:
  struct runtime {
    int32_t pid = 0;
    uint64_t start_time = 0;
    std::string monitor_path;
    std::string domain_dir;
    rt::monitor_actor monitor;
    std::map<std::string, std::string> chardevs;
    std::vector<int> graphics_ports;
    uint64_t balloon_kib = 0;
    std::string definition;
    bool starting = false;
    bool start_failed = false;
    bool destroying = false;
    bool stopping = false; ///< we asked QEMU to go (SIGTERM sent)
    bool shutdown_seen = false;
    bool fake_reboot = false;
    bool rebooting = false; ///< a fake reboot's reset and cont are under way
    bool exited = false;
    std::optional<rt::process_exited> exit_waiting; ///< see `on_exit`
    int32_t pause_reason = reason::unknown;
    int32_t resume_reason = reason::running_unpaused;
    std::vector<done_fn> waiting_exit;
    /// Files given to QEMU's account at start (dac.hpp), restored at stop.
    std::vector<file_owner> owners;
  };

  bool running(const domain_object& obj) const { return obj.active() && rt_ && !rt_->exited; }

  void spawn_monitor(unique_fd fd, const std::string& name) {
    rt::monitor_options opts;
    opts.vm_name = name;
    rt_->monitor = rt::spawn_monitor(host_->system(), std::move(fd),
                                     caf::actor_cast<rt::monitor_owner>(host_->handle()), opts);
  }

  /// Runs QMP `command` with the monitor deadline; `then` gets the `return`
  /// value or the error (a timeout is VIR_ERR_OPERATION_TIMEOUT).
  /// `deadline`: the monitor's deadline when zero.
  void exec(const std::string& command, const std::string& args,
            std::function<void(result<json>)> then, caf::timespan deadline = {}) {
    if (!rt_ || !rt_->monitor) {
      then(failed("QEMU is not running"));
      return;
    }
    if (deadline.count() == 0)
      deadline = caf::timespan{ctx_->cfg.monitor_timeout};
    ++pending_;
    host_->request(caf::actor_cast<caf::actor>(rt_->monitor), deadline + std::chrono::seconds{5},
                   caf::make_message(rt::qmp_exec_atom::value, command, args, deadline),
                   [this, then](std::string& reply) {
                     --pending_;
                     auto parsed = json::parse(reply, nullptr, false);
                     if (parsed.is_discarded())
                       return then(failed("unreadable reply from QEMU"));
                     then(std::move(parsed));
                   },
                   [this, then](const caf::error& err) {
                     --pending_;
                     then(from_caf_error(err));
                   });
  }

  void emit(lifecycle_event ev, int32_t det) {
    host_->context().lifecycle(obj_->handle(), ev, det);
  }

  /// The guest's balloon holds `bytes`: the live current memory.
  void balloon_now(uint64_t bytes) {
    if (!rt_ || !obj_->live || bytes == 0)
      return;
    rt_->balloon_kib = bytes / 1024;
    obj_->live->memory.current_kib = rt_->balloon_kib;
  }

  void paused_now(int32_t why) {
    if (obj_->state != domain_state::running)
      return;
    obj_->set_state(domain_state::paused, why);
    emit(lifecycle_event::suspended, detail::suspended_paused);
  }

  void resumed_now(int32_t why) {
    if (obj_->state == domain_state::running)
      return;
    obj_->set_state(domain_state::running, why);
    emit(lifecycle_event::resumed, detail::resumed_unpaused);
  }

  /// libvirt's reconnect reconciliation with `query-status` (no events).
  void reconcile(const std::string& status, bool is_running) {
    if (is_running) {
      if (obj_->state == domain_state::paused)
        obj_->set_state(domain_state::running, obj_->reason == reason::paused_starting_up
                                                 ? reason::running_booted
                                                 : reason::running_unpaused);
      return;
    }
    if (status == "shutdown") {
      obj_->set_state(domain_state::shutdown, reason::unknown);
      return;
    }
    if (status == "guest-panicked") {
      obj_->set_state(domain_state::crashed, reason::crashed_panicked);
      return;
    }
    int32_t why = reason::unknown;
    if (status == "paused" || status == "prelaunch")
      why = reason::paused_user;
    else if (status == "inmigrate" || status == "postmigrate" || status == "finish-migrate")
      why = 2; // VIR_DOMAIN_PAUSED_MIGRATION
    else if (status == "io-error")
      why = 5;
    else if (status == "save-vm")
      why = 3;
    else if (status == "watchdog")
      why = 6;
    obj_->set_state(domain_state::paused, why);
  }

  void on_event(const rt::qmp_event& ev) {
    if (!rt_ || !obj_->active())
      return;
    auto data = ev.data.empty() ? json::object() : json::parse(ev.data, nullptr, false);
    if (ev.name == "RESUME") {
      resumed_now(rt_->resume_reason);
      rt_->resume_reason = reason::running_unpaused;
    } else if (ev.name == "STOP") {
      // The STOP that follows a guest power-off (-no-shutdown) is no pause,
      // nor is it during a fake reboot (libvirt ignores STOP after SHUTDOWN).
      if (!rt_->shutdown_seen && !rt_->starting && !rt_->rebooting) {
        paused_now(rt_->pause_reason);
        rt_->pause_reason = reason::unknown;
      }
    } else if (ev.name == "SHUTDOWN") {
      on_shutdown_event(data);
    } else if (ev.name == "BALLOON_CHANGE") {
      if (data.is_object())
        balloon_now(data.value("actual", uint64_t{0}));
    } else if (ev.name == "RESET") {
      // A reset ends a fake reboot's wait; each reset is a REBOOT event.
      host_->context().emit(obj_->handle(), reboot_event, 0, 0);
    }
    save_status();
  }

  void on_shutdown_event(const json& data) {
    if (rt_->shutdown_seen)
      return; // repeats are ignored
    bool guest = data.is_object() && data.value("guest", false);
    bool reboot = rt_->fake_reboot ||
                  (guest && !rt_->destroying && obj_->current().on_poweroff == "restart");
    if (reboot && !rt_->destroying) {
      // Fake reboot: reset the powered-off machine and let it run again;
      // the domain stays running (booted) throughout, only REBOOT events.
      rt_->fake_reboot = false;
      rt_->rebooting = true;
      exec("system_reset", "", [this](result<json> r) {
        if (!rt_)
          return;
        if (!r) {
          rt_->rebooting = false;
          return;
        }
        rt_->resume_reason = reason::running_booted;
        exec("cont", "", [this](result<json> c) {
          if (!rt_)
            return;
          rt_->rebooting = false;
          if (c && obj_->state == domain_state::running)
            obj_->set_state(domain_state::running, reason::running_booted);
          save_status();
        });
      });
      return;
    }
    rt_->shutdown_seen = true;
    int32_t det = data.is_object() && data.contains("guest")
                    ? (guest ? detail::shutdown_guest : detail::shutdown_host)
                    : detail::shutdown_finished;
    obj_->set_state(domain_state::shutdown, reason::unknown);
    emit(lifecycle_event::shutdown, det);
    if (!rt_->destroying && obj_->current().on_poweroff != "preserve") {
      // The guest is off; QEMU (kept by -no-shutdown) goes now, no waiting.
      rt_->stopping = true;
      (void) ctx_->launcher->terminate(rt_->pid, std::nullopt);
    }
  }

  void on_monitor_closed(const rt::monitor_closed& closed) {
    if (!rt_ || rt_->exited)
      return;
    rt_->monitor = rt::monitor_actor{};
    // libvirt's monitor error callback: anything but an orderly end of file
    // (a reset with our command unread, an I/O error, malformed traffic).
    if (closed.why != rt::monitor_end::eof)
      host_->context().emit(obj_->handle(), control_error_event, 0, 0);
    if (rt_->exit_waiting)
      return finish_exit();
    // QEMU closes its monitor when it exits; a monitor that ends before
    // QEMU does leaves a domain nobody can drive: QEMU goes.
    if (!rt_->stopping) {
      rt_->stopping = true;
      (void) ctx_->launcher->terminate(rt_->pid, ctx_->cfg.destroy_grace);
    }
  }

  /// QEMU is gone. Its monitor's end comes first when it has not come yet.
  void on_exit(const rt::process_exited& e) {
    if (!rt_ || e.pid != rt_->pid || rt_->exit_waiting)
      return;
    if (rt_->monitor) {
      rt_->exit_waiting = e;
      caf::delayed_anon_send(caf::actor_cast<caf::actor>(host_->handle()), monitor_end_wait,
                             conf::backend_atom::value, caf::make_message(exit_wait_atom::value));
      return;
    }
    finish_exit();
  }

  /// The domain stops, with the reason QEMU's end gives.
  void finish_exit() {
    rt_->exited = true;
    if (rt_->monitor)
      caf::anon_send(rt_->monitor, close_atom::value);
    rt_->monitor = rt::monitor_actor{};
    int32_t why = reason::shutoff_crashed;
    int32_t det = detail::stopped_failed;
    if (rt_->destroying) {
      why = reason::shutoff_destroyed;
      det = detail::stopped_destroyed;
    } else if (rt_->shutdown_seen) {
      why = reason::shutoff_shutdown;
      det = detail::stopped_shutdown;
    }
    bool quiet = rt_->start_failed;
    auto waiting = std::move(rt_->waiting_exit);
    cleanup();
    rt_.reset();
    if (obj_->active() || obj_->starting) {
      if (!quiet)
        emit(lifecycle_event::stopped, det);
      obj_->mark_stopped(quiet ? reason::shutoff_failed : why);
      if (!obj_->persistent)
        obj_->removed = true;
    }
    for (auto& d : waiting)
      d(result<void>{});
    host_->changed();
  }

  /// A domain whose QEMU died while no daemon watched: shut off (crashed);
  /// a transient one disappears. No event: no client was there to hear it.
  void gone_while_away(domain_object& obj, const std::vector<file_owner>& owners) {
    dac_restore(owners);
    obj.mark_stopped(reason::shutoff_crashed);
    if (!obj.persistent)
      obj.removed = true;
    (void) ctx_->statuses->remove(status_name(obj.name));
    ::unlink((ctx_->cfg.run_dir + "/" + obj.name + ".pid").c_str());
  }

  void cleanup() {
    dac_restore(std::exchange(rt_->owners, {}));
    (void) ctx_->statuses->remove(status_name(obj_->name));
    ::unlink((ctx_->cfg.run_dir + "/" + obj_->name + ".pid").c_str());
    if (!rt_->monitor_path.empty())
      ::unlink(rt_->monitor_path.c_str());
    if (!rt_->domain_dir.empty())
      ::rmdir(rt_->domain_dir.c_str());
  }

  void save_status() {
    if (!rt_ || !obj_->active())
      return;
    domain_status s;
    s.id = obj_->id;
    s.state = static_cast<int32_t>(obj_->state);
    s.reason = obj_->reason;
    s.pid = rt_->pid;
    s.start_time = rt_->start_time;
    s.monitor_path = rt_->monitor_path;
    s.domain_dir = rt_->domain_dir;
    s.persistent = obj_->persistent;
    s.autostart = obj_->autostart;
    s.chardevs = rt_->chardevs;
    s.graphics_ports = rt_->graphics_ports;
    s.balloon_kib = rt_->balloon_kib;
    s.shutdown_seen = rt_->shutdown_seen;
    s.fake_reboot = rt_->fake_reboot;
    s.owners = rt_->owners;
    s.definition = rt_->definition;
    (void) ctx_->statuses->save(status_name(obj_->name), format_status(s));
  }

  std::shared_ptr<driver_context> ctx_;
  /// Monitor commands sent and not yet answered (or timed out).
  int pending_ = 0;
  conf::domain_host* host_ = nullptr;
  domain_object* obj_ = nullptr;
  std::optional<runtime> rt_;
  std::shared_ptr<const process_cpu> cpu_clock_;
};

} // namespace

std::unique_ptr<conf::domain_backend> make_domain_backend(std::shared_ptr<driver_context> ctx) {
  return std::make_unique<qemu_domain>(std::move(ctx));
}

} // namespace virtactor::drivers::qemu
