#include "drivers/qemu/qemu_driver.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>

#include <pwd.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "actors/uri.hpp"
#include "actors/user_dirs.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/local_connection.hpp"
#include "drivers/qemu/capabilities.hpp"
#include "drivers/qemu/dac.hpp"
#include "drivers/qemu/driver_context.hpp"
#include "drivers/qemu/qemu_state.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::qemu {

namespace rt = virtactor::qemu;

driver_config driver_config::defaults(bool privileged) {
  driver_config c;
  c.privileged = privileged;
  // The default account cannot be refused; the daemon reports its warning.
  std::vector<std::string> ignored;
  if (auto a = resolve_qemu_account(privileged, std::nullopt, std::nullopt, ignored))
    c.account = std::move(*a);
  if (privileged) {
    c.config_dir = "/etc/virtactor/qemu";
    c.run_dir = "/run/virtactor/qemu";
    c.lib_dir = "/var/lib/virtactor/qemu";
    c.log_dir = "/var/log/virtactor/qemu";
    return c;
  }
  auto env = user_env::from_process();
  auto config = user_config_dir(env);
  auto cache = user_cache_dir(env);
  auto runtime = user_runtime_dir(env);
  c.config_dir = config + "/virtactor/qemu";
  c.run_dir = runtime + "/virtactor/qemu/run";
  c.lib_dir = config + "/virtactor/qemu/lib";
  c.log_dir = cache + "/virtactor/qemu/log";
  return c;
}

namespace {

struct driver_st {
  driver_config cfg;
  std::shared_ptr<driver_context> ctx;
  conf::state_actor state;
  std::string failure; ///< why the driver could not start, if it could not
  static inline const char* name = "va_qemu_driver";
};

using driver_ptr = driver_actor::stateful_pointer<driver_st>;

/// The driver's shared pieces: directories, stores, launcher, emulator facts.
result<std::shared_ptr<driver_context>> make_context(const driver_config& cfg) {
  auto ctx = std::make_shared<driver_context>();
  ctx->cfg = cfg;
  ctx->traits = qemu_traits();
  ctx->traits.stats_timeout = std::min(cfg.stats_timeout, cfg.monitor_timeout);
  for (auto* dir : {&cfg.lib_dir, &cfg.log_dir}) {
    std::error_code ec;
    std::filesystem::create_directories(*dir, ec);
    if (ec)
      return make_virt_error(error_code::system_error, error_domain::qemu,
                             "cannot create directory '" + *dir + "': " + ec.message());
  }
  auto configs = conf::open_file_store(cfg.config_dir);
  if (!configs)
    return configs.error();
  ctx->configs = std::move(*configs);
  auto statuses = conf::open_file_store(cfg.run_dir);
  if (!statuses)
    return statuses.error();
  ctx->statuses = std::move(*statuses);
  auto launcher = rt::make_process_launcher();
  if (!launcher)
    return launcher.error();
  ctx->launcher = std::move(*launcher);
  static rt::caps_cache caps;
  auto probed = caps.get(cfg.emulator);
  if (!probed)
    return probed.error();
  auto& c = **probed;
  ctx->facts.path = c.path;
  // KVM is there for the guests only if QEMU's account may use /dev/kvm
  // (libvirt asks the same of its run user): root opening it is not enough.
  ctx->facts.kvm = c.kvm && kvm_usable_by(cfg);
  for (auto& m : c.machines)
    ctx->facts.machines.push_back(machine_type{m.name, m.alias, m.is_default});
  ctx->qemu_version = c.version;
  ctx->qemu_version_text = c.version_text;
  // DAC: QEMU runs as the configured account (libvirt's label "+UID:+GID").
  ctx->seclabel.type = "dynamic";
  ctx->seclabel.model = "dac";
  ctx->seclabel.relabel = true;
  ctx->seclabel.label = cfg.account.label();
  ctx->seclabel.image_label = ctx->seclabel.label;
  return ctx;
}

/// Starts the driver state once: loads, reattaches; then autostarts.
std::string ensure_state(driver_ptr self) {
  auto& st = self->state;
  if (st.state || !st.failure.empty())
    return st.failure;
  auto ctx = make_context(st.cfg);
  if (!ctx) {
    st.failure = ctx.error().message;
    return st.failure;
  }
  st.ctx = *ctx;
  auto backend = std::make_unique<qemu_state>(st.ctx);
  // Which domains to autostart is known before the state takes them.
  st.state = conf::spawn_state(self->system(), std::move(backend));
  self->link_to(st.state);
  return {};
}

/// Starts every persistent, inactive domain marked autostart.
void autostart(driver_ptr self) {
  auto& st = self->state;
  if (!st.cfg.autostart || !st.state)
    return;
  std::error_code ec;
  auto dir = st.cfg.config_dir + "/autostart";
  for (auto& entry : std::filesystem::directory_iterator{dir, ec}) {
    auto name = entry.path().stem().string();
    conf::typed_call lookup;
    lookup.proc = static_cast<int32_t>(protocol::proc::domain_lookup_by_name);
    lookup.args = protocol::name_args{name};
    self->request(st.state, std::chrono::seconds{30}, call_atom::value, lookup)
      .then(
        [self, name](const xdr::buffer& reply) {
          protocol::dom_only dom;
          if (!xdr::decode(reply, dom).empty() || dom.dom.id != -1)
            return; // running already
          conf::typed_call create;
          create.proc = static_cast<int32_t>(protocol::proc::domain_create);
          create.args = protocol::dom_only{dom.dom};
          self->request(self->state.state, std::chrono::minutes{5}, call_atom::value, create)
            .then([](const xdr::buffer&) {}, [](const caf::error&) {});
        },
        [](const caf::error&) {});
  }
}

/// "qemu:///system" or "qemu:///session" this driver serves; nullopt when
/// the URI belongs to another driver.
std::optional<std::string> qemu_uri_path(const std::string& text) {
  auto u = parse_uri(text);
  if (!u || u->driver != "qemu" || u->transport || u->host)
    return std::nullopt;
  return u->path;
}

driver_actor::behavior_type driver_impl(driver_ptr self, driver_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](open_atom, const std::string& uri, uint32_t flags,
           const open_options&) -> caf::result<connection_actor> {
      auto path = qemu_uri_path(uri);
      if (!path)
        return connection_actor{};
      auto& st = self->state;
      std::string want = st.cfg.privileged ? "/system" : "/session";
      if (*path != want)
        return make_caf_error(error_code::internal_error, error_domain::qemu,
                              "internal error: unexpected QEMU URI path '" + *path +
                                "', try qemu://" + want);
      if (auto failure = ensure_state(self); !failure.empty())
        return make_caf_error(error_code::internal_error, error_domain::qemu,
                              "internal error: the qemu driver could not start: " + failure);
      return spawn_local_connection(self->system(), st.state, uri, flags);
    },
    [self](initialize_atom) -> caf::result<bool> {
      if (auto failure = ensure_state(self); !failure.empty())
        return make_caf_error(error_code::internal_error, error_domain::qemu,
                              "internal error: the qemu driver could not start: " + failure);
      autostart(self);
      return true;
    },
    [](reload_atom) { return true; },
    [](shutdown_atom) { return true; },
  };
}

} // namespace

driver_actor spawn_qemu_driver(caf::actor_system& sys, driver_config cfg) {
  return sys.spawn<caf::hidden>(driver_impl, std::move(cfg));
}

} // namespace virtactor::drivers::qemu
