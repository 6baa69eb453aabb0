#include "tests/transports/ssh/sshd_peer.hpp"

#include <filesystem>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

namespace virtactor::tests {

using namespace std::chrono_literals;

namespace {

constexpr const char* sshd_binary = "/usr/sbin/sshd";
constexpr const char* ssh_binary = "/usr/bin/ssh";
constexpr const char* keygen_binary = "/usr/bin/ssh-keygen";

void make_executable(const std::string& path) {
  std::filesystem::permissions(path, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::group_read |
                                         std::filesystem::perms::group_exec);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

} // namespace

void make_ssh_key(const std::string& path, const std::string& passphrase) {
  auto r = interop::run_process(
      {keygen_binary, "-q", "-t", "ed25519", "-N", passphrase, "-C", "virtactor-test", "-f", path});
  if (r.exit_code != 0)
    throw std::runtime_error("ssh-keygen failed: " + r.err);
}

std::string sshd_peer::unavailable() {
  if (::access(sshd_binary, X_OK) != 0)
    return "sshd is not installed (CI installs openssh-server)";
  if (::access(ssh_binary, X_OK) != 0 || ::access(keygen_binary, X_OK) != 0)
    return "ssh or ssh-keygen is not installed (CI installs openssh-client)";
  if (::geteuid() != 0)
    return "sshd needs root here (privilege separation, logging in as root)";
  return {};
}

sshd_peer::sshd_peer(const std::string& helper) {
  make_ssh_key(file("host_key"));
  make_ssh_key(user_key());
  make_ssh_key(passphrase_key(), "secret");
  make_ssh_key(rogue_key());
  make_ssh_key(file("other_host_key"));
  interop::write_file(file("authorized_keys"), interop::read_file(user_key() + ".pub") +
                                                   interop::read_file(passphrase_key() + ".pub"));
  ::chmod(file("authorized_keys").c_str(), 0600);
  // The far side's PATH finds our helper under libvirt's name.
  std::filesystem::create_directories(file("bin"));
  std::filesystem::create_symlink(helper, file("bin/virt-ssh-helper"));
  // sshd refuses to start without its privilege separation directory.
  std::error_code ec;
  std::filesystem::create_directories("/run/sshd", ec);
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = interop::free_tcp_port();
    interop::write_file(file("sshd_config"), "Port " + std::to_string(port_) +
                                                 "\n"
                                                 "ListenAddress 127.0.0.1\n"
                                                 "HostKey " +
                                                 file("host_key") +
                                                 "\n"
                                                 "PidFile " +
                                                 file("sshd.pid") +
                                                 "\n"
                                                 "AuthorizedKeysFile " +
                                                 file("authorized_keys") +
                                                 "\n"
                                                 "PermitRootLogin prohibit-password\n"
                                                 "StrictModes no\n"
                                                 "UsePAM no\n"
                                                 "PasswordAuthentication no\n"
                                                 "KbdInteractiveAuthentication no\n"
                                                 "PubkeyAuthentication yes\n"
                                                 "SetEnv PATH=" +
                                                 file("bin") + ":/usr/bin:/bin\n");
    child_ = std::make_unique<interop::child_process>(
        std::vector<std::string>{sshd_binary, "-D", "-e", "-f", file("sshd_config")},
        std::vector<std::string>{}, file("sshd.out"), file("sshd.log"));
    if (interop::wait_until([this] { return interop::tcp_accepts(port_) || !child_->running(); },
                            20s) &&
        child_->running())
      break;
    last_log = log();
    child_.reset();
  }
  if (!child_)
    throw std::runtime_error("sshd did not start: " + last_log);
  interop::write_file(known_hosts(), host_key_line() + "\n");
  auto other = trim(interop::read_file(file("other_host_key.pub")));
  other = other.substr(0, other.rfind(' ')); // drop the comment
  interop::write_file(wrong_known_hosts(),
                      "[127.0.0.1]:" + std::to_string(port_) + " " + other + "\n");
  for (bool wrong : {false, true}) {
    auto name = std::string{wrong ? "wrong_" : ""};
    interop::write_file(file(name + "ssh_config"),
                        "Host *\n"
                        "  UserKnownHostsFile " +
                            (wrong ? wrong_known_hosts() : known_hosts()) +
                            "\n"
                            "  GlobalKnownHostsFile /dev/null\n"
                            "  IdentitiesOnly yes\n"
                            "  IdentityAgent none\n");
    interop::write_file(file(name + "ssh"), "#!/bin/sh\nexec " + std::string{ssh_binary} + " -F " +
                                                file(name + "ssh_config") + " \"$@\"\n");
    make_executable(file(name + "ssh"));
  }
}

sshd_peer::~sshd_peer() {
  if (child_)
    child_->stop(10s);
}

std::string sshd_peer::host_key_line() const {
  auto key = trim(interop::read_file(file("host_key.pub")));
  key = key.substr(0, key.rfind(' '));
  return "[127.0.0.1]:" + std::to_string(port_) + " " + key;
}

std::string sshd_peer::ssh_wrapper(bool wrong_host_key) const {
  return file(wrong_host_key ? "wrong_ssh" : "ssh");
}

std::string sshd_peer::log() const {
  return interop::read_file(file("sshd.log"));
}

} // namespace virtactor::tests
