#include "actors/user_dirs.hpp"

#include <cstdlib>
#include <vector>

#include <pwd.h>
#include <unistd.h>

namespace virtactor {

namespace {

bool nonempty(const std::optional<std::string>& s) {
  return s && !s->empty();
}

std::string join(const std::string& dir, const char* leaf) {
  if (!dir.empty() && dir.back() == '/')
    return dir + leaf;
  return dir + "/" + leaf;
}

} // namespace

std::optional<std::string> env_var(const char* name) {
  if (const char* v = std::getenv(name))
    return std::string{v};
  return std::nullopt;
}

user_env user_env::from_process() {
  user_env env;
  env.xdg_runtime_dir = env_var("XDG_RUNTIME_DIR");
  env.xdg_cache_home = env_var("XDG_CACHE_HOME");
  env.xdg_config_home = env_var("XDG_CONFIG_HOME");
  env.home = env_var("HOME");
  if (!nonempty(env.home)) {
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found &&
        found->pw_dir)
      env.home = std::string{found->pw_dir};
  }
  return env;
}

std::string user_home(const user_env& env) {
  return nonempty(env.home) ? *env.home : std::string{"/"};
}

std::string user_config_dir(const user_env& env) {
  return nonempty(env.xdg_config_home) ? *env.xdg_config_home : join(user_home(env), ".config");
}

std::string user_cache_dir(const user_env& env) {
  return nonempty(env.xdg_cache_home) ? *env.xdg_cache_home : join(user_home(env), ".cache");
}

std::string user_runtime_dir(const user_env& env) {
  return nonempty(env.xdg_runtime_dir) ? *env.xdg_runtime_dir : user_cache_dir(env);
}

} // namespace virtactor
