/// A real OpenSSH `sshd` on 127.0.0.1 for the ssh-family tests: throwaway
/// host and user keys, its own config and port, a PATH on the far side whose
/// `virt-ssh-helper` is ours, and an `ssh` wrapper with private known_hosts;
/// stopped by PID when it goes out of scope.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/interop/harness.hpp"

namespace virtactor::tests {

class sshd_peer {
public:
  /// Empty when this machine can run the peer; else why not (no sshd, not root...).
  static std::string unavailable();

  /// Starts sshd; `helper` is installed as virt-ssh-helper in its PATH.
  /// Throws with sshd's stderr when it does not come up.
  explicit sshd_peer(const std::string& helper);
  ~sshd_peer();
  sshd_peer(const sshd_peer&) = delete;
  sshd_peer& operator=(const sshd_peer&) = delete;

  uint16_t port() const { return port_; }
  std::string file(const std::string& name) const { return dir_.file(name); }

  /// An authorized key without passphrase.
  std::string user_key() const { return file("user_key"); }
  /// An authorized key whose passphrase is "secret".
  std::string passphrase_key() const { return file("pass_key"); }
  /// A key sshd does not know.
  std::string rogue_key() const { return file("rogue_key"); }
  /// A known_hosts file that knows this sshd's host key.
  std::string known_hosts() const { return file("known_hosts"); }
  /// A known_hosts file with another key for the same host and port.
  std::string wrong_known_hosts() const { return file("wrong_known_hosts"); }
  /// `[127.0.0.1]:port ssh-ed25519 AAAA...`
  std::string host_key_line() const;
  /// A script running the system ssh with a private config whose known hosts
  /// are `known_hosts()` (or `wrong_known_hosts()`), for `command=`.
  std::string ssh_wrapper(bool wrong_host_key = false) const;
  /// What sshd logged so far.
  std::string log() const;

private:
  interop::temp_dir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<interop::child_process> child_;
};

/// Makes an ed25519 key pair at `path` (and `path`.pub); throws on failure.
void make_ssh_key(const std::string& path, const std::string& passphrase = "");

} // namespace virtactor::tests
