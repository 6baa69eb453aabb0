/// The per-user directories (GLib's rules, which libvirt follows): where a
/// session daemon keeps its sockets, its configuration and its state. Shared
/// by the client (which finds or spawns a session daemon), the daemon and
/// the drivers (which run as that user).
#pragma once

#include <optional>
#include <string>

namespace virtactor {

/// The environment the directories derive from; explicit so that tests can
/// play any user.
struct user_env {
  std::optional<std::string> xdg_runtime_dir;
  std::optional<std::string> xdg_cache_home;
  std::optional<std::string> xdg_config_home;
  std::optional<std::string> home;

  /// This process's environment; a missing $HOME is taken from the passwd
  /// entry of the effective user (read reentrantly: actors call this).
  static user_env from_process();
};

/// The variable `name` of this process's environment, if set.
std::optional<std::string> env_var(const char* name);

/// $HOME, else "/".
std::string user_home(const user_env& env);
/// $XDG_CONFIG_HOME, else $HOME/.config.
std::string user_config_dir(const user_env& env);
/// $XDG_CACHE_HOME, else $HOME/.cache.
std::string user_cache_dir(const user_env& env);
/// $XDG_RUNTIME_DIR, else the cache directory.
std::string user_runtime_dir(const user_env& env);

} // namespace virtactor
