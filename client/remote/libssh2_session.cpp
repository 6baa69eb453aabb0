#include "client/remote/libssh2_session.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "actors/fd.hpp"
#include "client/remote/transports.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

namespace {

// -- errors ------------------------------------------------------------------------

/// libvirt's errors for one flavour: libssh2 reports VIR_FROM_SSH, libssh
/// VIR_FROM_LIBSSH (and VIR_ERR_LIBSSH where libssh2 says VIR_ERR_SSH).
struct ssh_errors {
  bool libssh = false;

  error_domain domain() const { return libssh ? error_domain::libssh : error_domain::ssh; }
  virt_error session(const std::string& text) const {
    return libssh ? make_virt_error(error_code::libssh, domain(), "libssh transport error: " + text)
                  : make_virt_error(error_code::ssh, domain(), "SSH transport error: " + text);
  }
  virt_error auth_failed(const std::string& text) const {
    return make_virt_error(error_code::auth_failed, domain(), "authentication failed: " + text);
  }
  virt_error no_connect(const std::string& text) const {
    return make_virt_error(error_code::no_connect, domain(),
                           "no connection driver available for " + text);
  }
};

void init_libssh2_once() {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

// -- the session ---------------------------------------------------------------

/// Answers keyboard-interactive prompts from inside libssh2's callback.
struct kbd_context {
  const connect_auth* auth = nullptr;
  enum class outcome { ok, no_method, retrieval_failed } status = outcome::ok;
};

/// One SSH connection's libssh2 objects, torn down politely (bounded) in
/// reverse order.
struct ssh_link {
  unique_fd sock;
  LIBSSH2_SESSION* session = nullptr;
  LIBSSH2_KNOWNHOSTS* hosts = nullptr;
  LIBSSH2_AGENT* agent = nullptr;
  LIBSSH2_CHANNEL* channel = nullptr;
  kbd_context kbd;

  ssh_link() = default;
  ssh_link(const ssh_link&) = delete;
  ssh_link& operator=(const ssh_link&) = delete;

  ~ssh_link() {
    if (session) {
      libssh2_session_set_blocking(session, 1);
      libssh2_session_set_timeout(session, 2000);
    }
    if (channel) {
      libssh2_channel_close(channel);
      libssh2_channel_free(channel);
    }
    if (hosts)
      libssh2_knownhost_free(hosts);
    if (agent) {
      libssh2_agent_disconnect(agent);
      libssh2_agent_free(agent);
    }
    if (session) {
      libssh2_session_disconnect(session, "virtactor: closing the connection");
      libssh2_session_free(session);
    }
  }

  std::string last_error() const {
    char* msg = nullptr;
    libssh2_session_last_error(session, &msg, nullptr, 0);
    return msg ? msg : "";
  }
};

/// The caller's answer to one question.
struct answer {
  bool answered = false; // false: the callback failed (libvirt's -1)
  std::optional<std::string> result;
};

answer ask(const connect_auth& auth, credential_type type, const std::string& prompt) {
  std::vector<credential> q(1);
  q[0].type = type;
  q[0].prompt = prompt;
  try {
    if (!auth.callback(q))
      return {};
  } catch (...) {
    return {};
  }
  return {true, q[0].result};
}

/// The first type `auth` offers for a hidden answer (a passphrase, a password).
std::optional<credential_type> secret_type(const connect_auth& auth) {
  for (auto t : auth.types)
    if (t == credential_type::passphrase || t == credential_type::noechoprompt)
      return t;
  return std::nullopt;
}

bool ieq(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

extern "C" void kbd_response(const char*, int, const char*, int, int num_prompts,
                             const LIBSSH2_USERAUTH_KBDINT_PROMPT* prompts,
                             LIBSSH2_USERAUTH_KBDINT_RESPONSE* responses, void** abstract) {
  auto& ctx = *static_cast<kbd_context*>(*abstract);
  ctx.status = kbd_context::outcome::ok;
  auto& auth = *ctx.auth;
  // libvirt needs both kinds: echoed prompts and hidden ones.
  std::optional<credential_type> echo, noecho;
  for (auto t : auth.types) {
    if (t == credential_type::passphrase || t == credential_type::noechoprompt)
      noecho = t;
    if (t == credential_type::echoprompt)
      echo = t;
  }
  if (!echo || !noecho || !auth.callback) {
    ctx.status = kbd_context::outcome::no_method;
    return;
  }
  std::vector<credential> q(static_cast<size_t>(std::max(num_prompts, 0)));
  for (size_t i = 0; i < q.size(); ++i) {
    std::string prompt(prompts[i].text, prompts[i].length);
    // The caller's prompt adds its own colon, as libvirt's does.
    if (auto colon = prompt.rfind(':'); colon != std::string::npos)
      prompt.resize(colon);
    q[i].prompt = prompt;
    q[i].type = prompts[i].echo ? *echo : *noecho;
  }
  bool answered = false;
  try {
    answered = auth.callback(q);
  } catch (...) {
    answered = false;
  }
  if (!answered) {
    ctx.status = kbd_context::outcome::retrieval_failed;
    return;
  }
  for (size_t i = 0; i < q.size(); ++i) {
    auto text = q[i].result.value_or("");
    // libssh2 frees the answers with free().
    responses[i].text = static_cast<char*>(std::malloc(text.size() + 1));
    if (!responses[i].text) {
      responses[i].length = 0;
      continue;
    }
    std::memcpy(responses[i].text, text.c_str(), text.size() + 1);
    responses[i].length = static_cast<unsigned int>(text.size());
  }
}

// -- host key ------------------------------------------------------------------

int knownhost_key_type(int hostkey_type) {
  switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
      return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
      return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
      return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default:
      return -1;
  }
}

/// virNetSSHCheckHostKey: a match passes; a different key is refused; an
/// unknown key is asked about (normal) or added (auto), then saved.
result<void> check_host_key(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  if (s.verify == host_key_check::ignore)
    return {};
  size_t key_len = 0;
  int key_type = 0;
  auto key = libssh2_session_hostkey(l.session, &key_len, &key_type);
  if (!key)
    return err.session("Failed to retrieve ssh host key: " + l.last_error());
  libssh2_knownhost* entry = nullptr;
  auto check =
      libssh2_knownhost_checkp(l.hosts, s.host.c_str(), s.port, key, key_len,
                               LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &entry);
  switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
      return {};
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return err.auth_failed(
          "!!! SSH HOST KEY VERIFICATION FAILED !!!: Identity of host '" + s.host + ":" +
          std::to_string(s.port) +
          "' differs from stored identity. Please verify the new host key '" +
          std::string{entry && entry->key ? entry->key : ""} +
          "' to avoid possible man in the middle attack. The key is stored in '" + s.known_hosts +
          "'.");
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
      break;
    default:
      return err.session("failed to validate SSH host key: " + l.last_error());
  }
  if (s.verify == host_key_check::normal) {
    if (!s.auth || !s.auth->callback)
      return err.session(
          "No user interaction callback provided: Can't verify the session host key");
    if (!s.auth->offers(credential_type::echoprompt))
      return err.session("no suitable callback for host key verification");
    auto hash = libssh2_hostkey_hash(l.session, LIBSSH2_HOSTKEY_HASH_MD5);
    if (!hash)
      return err.session("failed to calculate ssh host key hash");
    std::string hex;
    for (int i = 0; i < 16; ++i) {
      char part[4];
      std::snprintf(part, sizeof part, "%02X", static_cast<unsigned char>(hash[i]));
      hex += (i ? ":" : "") + std::string{part};
    }
    auto decision = ask(*s.auth, credential_type::echoprompt,
                        "Accept SSH host key with hash '" + hex + "' for host '" + s.host + ":" +
                            std::to_string(s.port) + "' (y/n)?");
    if (!decision.answered)
      return err.session("failed to retrieve decision to accept host key");
    if (!decision.result || !ieq(*decision.result, "y"))
      return err.session("SSH host key for '" + s.host + "' (" + hex + ") was not accepted");
  }
  auto type = knownhost_key_type(key_type);
  if (type < 0)
    return err.session("unsupported SSH key type");
  auto name = "[" + s.host + "]:" + std::to_string(s.port);
  static constexpr char comment[] = "added by libvirt ssh transport";
  if (libssh2_knownhost_addc(
          l.hosts, name.c_str(), nullptr, key, key_len, comment, sizeof comment - 1,
          LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type, nullptr) < 0)
    return err.session("unable to add SSH host key for host '" + name + "': " + l.last_error());
  // libvirt fails when the directory is missing; making it is kinder.
  std::error_code ec;
  auto dir = std::filesystem::path{s.known_hosts}.parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  if (libssh2_knownhost_writefile(l.hosts, s.known_hosts.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) <
      0)
    return err.session("failed to write known_host file '" + s.known_hosts +
                       "': " + l.last_error());
  return {};
}

// -- authentication ------------------------------------------------------------

/// One method's outcome: 0 authenticated, 1 rejected (try the next), 2 not
/// offered by the server, -1 a hard error. `error` is what it reported.
struct auth_outcome {
  int rc = 2;
  std::optional<virt_error> error;
};

bool rejected(int rc) {
  return rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNRECOGNIZED ||
         rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
}

auth_outcome auth_agent(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  if (!l.agent)
    l.agent = libssh2_agent_init(l.session);
  if (!l.agent)
    return {-1, err.session("Failed to initialize libssh2 agent handle")};
  if (libssh2_agent_connect(l.agent) < 0)
    return {1, err.session("Failed to connect to ssh agent")};
  if (libssh2_agent_list_identities(l.agent) < 0)
    return {1, err.session("Failed to list ssh agent identities")};
  libssh2_agent_publickey* identity = nullptr;
  bool any = false;
  int rc;
  while ((rc = libssh2_agent_get_identity(l.agent, &identity, identity)) == 0) {
    any = true;
    int r = libssh2_agent_userauth(l.agent, s.user.c_str(), identity);
    if (r == 0)
      return {0, {}};
    if (!rejected(r))
      return {-1, err.auth_failed("failed to authenticate using SSH agent: " + l.last_error())};
  }
  if (rc == 1)
    return {1, err.auth_failed(any ? "All identities provided by the SSH Agent were rejected"
                                   : "SSH Agent did not provide any authentication identity")};
  return {-1, err.auth_failed("failed to authenticate using SSH agent: " + l.last_error())};
}

auth_outcome auth_privkey(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  const auto& file = *s.keyfile;
  auto fail = [&] {
    return err.auth_failed("authentication with private key '" + file +
                           "' has failed: " + l.last_error());
  };
  int r = libssh2_userauth_publickey_fromfile(l.session, s.user.c_str(), nullptr, file.c_str(),
                                              nullptr);
  if (r == 0)
    return {0, {}};
  if (r == LIBSSH2_ERROR_PUBLICKEY_UNRECOGNIZED || r == LIBSSH2_ERROR_AUTHENTICATION_FAILED)
    return {1, fail()};
  // Most likely an encrypted key: ask for its passphrase.
  if (!s.auth || !s.auth->callback)
    return {-1, err.session("No user interaction callback provided: "
                            "Can't retrieve private key passphrase")};
  auto type = secret_type(*s.auth);
  if (!type)
    return {-1, err.session("no suitable method to retrieve key passphrase")};
  auto pass = ask(*s.auth, *type, "Passphrase for key '" + file + "'");
  if (!pass.answered)
    return {-1, err.session("failed to retrieve private key passphrase: callback has failed")};
  r = libssh2_userauth_publickey_fromfile(l.session, s.user.c_str(), nullptr, file.c_str(),
                                          pass.result ? pass.result->c_str() : nullptr);
  if (r == 0)
    return {0, {}};
  return {rejected(r) ? 1 : -1, fail()};
}

auth_outcome auth_password(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  if (!s.auth || !s.auth->callback)
    return {-1, err.session("Can't perform authentication: Authentication callback not provided")};
  auto type = secret_type(*s.auth);
  if (!type)
    return {-1, err.session("no suitable method to retrieve authentication credentials")};
  int r;
  // Asked again after each rejection; the server ends this after its MaxAuthTries.
  for (;;) {
    auto password = ask(*s.auth, *type, "Enter " + s.user + "'s password for " + s.host);
    if (!password.answered || !password.result)
      return {-1, err.session("failed to retrieve credentials")};
    r = libssh2_userauth_password(l.session, s.user.c_str(), password.result->c_str());
    if (r == 0)
      return {0, {}};
    if (r != LIBSSH2_ERROR_AUTHENTICATION_FAILED)
      break;
  }
  return {-1, err.auth_failed(l.last_error())};
}

auth_outcome auth_keyboard(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  if (!s.auth || !s.auth->callback)
    return {-1, err.session("Can't perform keyboard-interactive authentication: "
                            "Authentication callback not provided")};
  l.kbd.auth = s.auth.get();
  for (;;) {
    int r = libssh2_userauth_keyboard_interactive(l.session, s.user.c_str(), &kbd_response);
    switch (l.kbd.status) {
      case kbd_context::outcome::no_method:
        return {-1, err.session("no suitable method to retrieve authentication credentials")};
      case kbd_context::outcome::retrieval_failed:
        return {-1, err.session("failed to retrieve credentials")};
      case kbd_context::outcome::ok:
        break;
    }
    if (r == 0)
      return {0, {}};
    if (r == LIBSSH2_ERROR_AUTHENTICATION_FAILED)
      continue; // asked again until the server gives up
    return {-1, err.auth_failed("keyboard interactive authentication failed: " + l.last_error())};
  }
}

/// virNetSSHAuthenticate: each method in order, where the server offers it.
result<void> authenticate(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  if (s.methods.empty())
    return err.session("No authentication methods and credentials provided");
  auto list =
      libssh2_userauth_list(l.session, s.user.c_str(), static_cast<unsigned int>(s.user.size()));
  if (!list) {
    if (libssh2_userauth_authenticated(l.session) == 1)
      return {}; // the server took "none"
    return err.session("couldn't retrieve authentication methods list: " + l.last_error());
  }
  std::string offered = list;
  bool no_method = false, auth_failed = false;
  std::optional<virt_error> last;
  for (const auto& method : s.methods) {
    auth_outcome out;
    if (method == "keyboard-interactive") {
      if (offered.find("keyboard-interactive") != std::string::npos)
        out = auth_keyboard(l, s, err);
    } else if (method == "agent") {
      if (offered.find("publickey") != std::string::npos)
        out = auth_agent(l, s, err);
    } else if (method == "privkey") {
      if (offered.find("publickey") != std::string::npos)
        out = auth_privkey(l, s, err);
    } else if (method == "password") {
      if (offered.find("password") != std::string::npos)
        out = auth_password(l, s, err);
    }
    if (out.rc == 0)
      return {};
    if (out.rc < 0)
      return out.error ? *out.error : err.auth_failed(l.last_error());
    if (out.rc == 2)
      no_method = true;
    if (out.rc == 1) {
      auth_failed = true;
      last = out.error;
    }
  }
  if (s.methods.size() == 1 && last)
    return *last;
  // libvirt leaves a lone method the server does not offer without an error
  // ("the cause is unknown"); say what happened instead.
  if (no_method && !auth_failed)
    return err.auth_failed("None of the requested authentication methods are supported by the "
                           "server");
  return err.auth_failed("All provided authentication methods with credentials were rejected by "
                         "the server");
}

/// Everything up to a running remote command, in blocking mode.
result<void> establish(ssh_link& l, const libssh2_settings& s, const ssh_errors& err) {
  init_libssh2_once();
  if (s.verify != host_key_check::ignore && s.host.empty())
    return err.session("Hostname is needed for host key verification");
  auto sock = connect_tcp(s.host, s.port, s.timeout_ms);
  if (!sock)
    return sock.error();
  l.sock = std::move(*sock);
  l.session = libssh2_session_init_ex(nullptr, nullptr, nullptr, &l.kbd);
  if (!l.session)
    return err.session("Failed to initialize libssh2 session");
  libssh2_session_set_blocking(l.session, 1);
  libssh2_session_set_timeout(l.session, s.timeout_ms);
  l.hosts = libssh2_knownhost_init(l.session);
  if (!l.hosts)
    return err.session("Failed to initialize libssh2 known hosts table");
  std::error_code ec;
  if (!s.known_hosts.empty() && std::filesystem::exists(s.known_hosts, ec) &&
      libssh2_knownhost_readfile(l.hosts, s.known_hosts.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) <
          0)
    return err.session("unable to load knownhosts file '" + s.known_hosts + "': " + l.last_error());
  if (libssh2_session_handshake(l.session, l.sock.get()) < 0)
    return err.no_connect("SSH session handshake failed: " + l.last_error());
  if (auto r = check_host_key(l, s, err); !r)
    return r.error();
  if (auto r = authenticate(l, s, err); !r)
    return r.error();
  l.channel = libssh2_channel_open_session(l.session);
  if (!l.channel)
    return err.session("failed to open ssh channel: " + l.last_error());
  if (libssh2_channel_exec(l.channel, s.command.c_str()) != 0)
    return err.session("failed to execute command '" + s.command + "': " + l.last_error());
  return {};
}

// -- the pump ------------------------------------------------------------------

constexpr size_t stderr_limit = 4096;

/// How the pump ended, for the connection's error message.
struct pump_report {
  std::mutex mtx;
  std::string remote_stderr; // the channel's stderr, first 4 KiB
  std::optional<int> exit_status;
  std::optional<virt_error> failure;

  void add_stderr(const char* data, size_t n) {
    std::lock_guard<std::mutex> guard{mtx};
    auto room = stderr_limit - std::min(stderr_limit, remote_stderr.size());
    remote_stderr.append(data, std::min(room, n));
  }
};

/// The owner's way to stop the pump: a pipe it writes to when released.
struct pump_stopper {
  unique_fd rd, wr;
};

struct pump_owner {
  std::shared_ptr<pump_stopper> stop;
  explicit pump_owner(std::shared_ptr<pump_stopper> s) : stop(std::move(s)) {}
  ~pump_owner() {
    char c = 0;
    [[maybe_unused]] auto n = ::write(stop->wr.get(), &c, 1);
  }
  pump_owner(const pump_owner&) = delete;
  pump_owner& operator=(const pump_owner&) = delete;
};

constexpr size_t pump_buffer_limit = 256 * 1024;

/// Moves bytes between the channel and the local socket until either side
/// ends or the owner stops it. Runs on the connection's own thread.
void pump(ssh_link& l, int local, int stop, pump_report& report, const ssh_errors& err) {
  libssh2_session_set_blocking(l.session, 0);
  std::vector<char> up, down; // local -> channel, channel -> local
  bool local_eof = false, remote_eof = false;
  std::vector<char> buf(32768);
  auto fail = [&](const std::string& text) {
    std::lock_guard<std::mutex> guard{report.mtx};
    report.failure = err.session(text);
  };
  for (;;) {
    bool progress = false;
    if (!local_eof && up.size() < pump_buffer_limit) {
      auto n = ::recv(local, buf.data(), std::min(buf.size(), pump_buffer_limit - up.size()),
                      MSG_DONTWAIT);
      if (n > 0) {
        up.insert(up.end(), buf.data(), buf.data() + n);
        progress = true;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        local_eof = true;
        progress = true;
      }
    }
    while (!up.empty()) {
      auto n = libssh2_channel_write(l.channel, up.data(), up.size());
      if (n == LIBSSH2_ERROR_EAGAIN)
        break;
      if (n < 0) {
        fail("write failed: " + l.last_error());
        return;
      }
      up.erase(up.begin(), up.begin() + n);
      progress = true;
    }
    if (local_eof && up.empty()) {
      // The connection is closed on our side: end the remote command too.
      libssh2_channel_send_eof(l.channel);
      return;
    }
    if (!remote_eof && down.size() < pump_buffer_limit) {
      auto n = libssh2_channel_read(l.channel, buf.data(),
                                    std::min(buf.size(), pump_buffer_limit - down.size()));
      if (n > 0) {
        down.insert(down.end(), buf.data(), buf.data() + n);
        progress = true;
      } else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
        fail("read failed: " + l.last_error());
        return;
      }
      auto e = libssh2_channel_read_stderr(l.channel, buf.data(), buf.size());
      if (e > 0) {
        report.add_stderr(buf.data(), static_cast<size_t>(e));
        progress = true;
      }
      if (libssh2_channel_eof(l.channel)) {
        remote_eof = true;
        progress = true;
      }
    }
    while (!down.empty()) {
      auto n = ::send(local, down.data(), down.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        down.erase(down.begin(), down.begin() + n);
        progress = true;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        break;
      down.clear(); // the broker is gone
      local_eof = true;
    }
    if (remote_eof && down.empty()) {
      // The command ended: collect its exit status (it may follow the EOF).
      libssh2_session_set_blocking(l.session, 1);
      libssh2_session_set_timeout(l.session, 2000);
      libssh2_channel_close(l.channel);
      libssh2_channel_wait_closed(l.channel);
      int e;
      while ((e = libssh2_channel_read_stderr(l.channel, buf.data(), buf.size())) > 0)
        report.add_stderr(buf.data(), static_cast<size_t>(e));
      std::lock_guard<std::mutex> guard{report.mtx};
      report.exit_status = libssh2_channel_get_exit_status(l.channel);
      return;
    }
    if (progress)
      continue;
    pollfd fds[3] = {};
    fds[0].fd = local;
    fds[0].events = static_cast<short>((!local_eof && up.size() < pump_buffer_limit ? POLLIN : 0) |
                                       (!down.empty() ? POLLOUT : 0));
    fds[1].fd = l.sock.get();
    fds[1].events = POLLIN;
    if (libssh2_session_block_directions(l.session) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
      fds[1].events |= POLLOUT;
    fds[2].fd = stop;
    fds[2].events = POLLIN;
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) {
      fail(std::string{"poll failed: "} + std::strerror(errno));
      return;
    }
    if (fds[2].revents)
      return; // the owner let go: the stream is over
  }
}

std::optional<virt_error> explain(pump_report& report, const ssh_errors& err) {
  std::lock_guard<std::mutex> guard{report.mtx};
  if (report.failure)
    return report.failure;
  if (report.exit_status && *report.exit_status != 0) {
    auto text =
        "Remote command terminated with non-zero code: " + std::to_string(*report.exit_status);
    auto said = report.remote_stderr;
    auto end = said.find_last_not_of(" \t\r\n");
    if (end != std::string::npos)
      text += ": " + said.substr(0, end + 1);
    return err.session(text);
  }
  return std::nullopt;
}

std::string config_dir(const local_env& env) {
  return user_config_dir(env) + "/libvirt";
}

} // namespace

result<libssh2_settings> make_libssh2_settings(const remote_target& t, bool read_only,
                                               std::shared_ptr<const connect_auth> auth,
                                               const local_env& env) {
  libssh2_settings s;
  s.libssh_flavour = t.transport == transport::libssh;
  ssh_errors err{s.libssh_flavour};
  s.host = t.host;
  s.port = t.port_or_default();
  s.user = t.user ? *t.user : "root";
  s.known_hosts = t.known_hosts ? *t.known_hosts : config_dir(env) + "/known_hosts";
  s.verify = t.known_hosts_verify;
  if (t.keyfile) {
    s.keyfile = t.keyfile;
  } else if (env.home) {
    for (auto name : {"identity", "id_dsa", "id_ecdsa", "id_ed25519", "id_rsa"}) {
      auto path = *env.home + "/.ssh/" + name;
      if (::access(path.c_str(), F_OK) == 0) {
        s.keyfile = path;
        break;
      }
    }
  }
  if (t.sshauth.empty()) {
    s.methods =
        s.keyfile ? std::vector<std::string>{"agent", "privkey", "password", "keyboard-interactive"}
                  : std::vector<std::string>{"agent", "password", "keyboard-interactive"};
  } else {
    for (auto m : t.sshauth) {
      std::transform(m.begin(), m.end(), m.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (m == "privkey" && !s.keyfile)
        return err.session("Key file path must be provided for private key authentication");
      s.methods.push_back(std::move(m));
    }
  }
  auto command = ssh_remote_command(t, read_only);
  if (!command)
    return command.error();
  s.command = std::move(*command);
  s.auth = std::move(auth);
  s.timeout_ms = connect_timeout_ms;
  return s;
}

result<stream_endpoint> open_libssh2_stream(const libssh2_settings& s) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           std::string{"unable to create socket pair: "} + std::strerror(errno));
  unique_fd ours{sv[0]}, theirs{sv[1]};
  int sp[2];
  if (::pipe2(sp, O_CLOEXEC | O_NONBLOCK) != 0)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           std::string{"Unable to create pipe: "} + std::strerror(errno));
  auto stop = std::make_shared<pump_stopper>();
  stop->rd.reset(sp[0]);
  stop->wr.reset(sp[1]);
  auto report = std::make_shared<pump_report>();
  ssh_errors err{s.libssh_flavour};
  std::promise<result<void>> ready;
  auto outcome = ready.get_future();
  std::thread{[s, err, stop, report, local = std::move(theirs),
               ready = std::move(ready)]() mutable {
    // libssh2 may write to a socket the peer closed: EPIPE, not SIGPIPE.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    ssh_link link;
    auto up = establish(link, s, err);
    bool ok = up.ok();
    ready.set_value(std::move(up));
    if (!ok)
      return;
    pump(link, local.get(), stop->rd.get(), *report, err);
    // The broker sees the end of file now; the SSH teardown may take a moment.
    local.reset();
  }}.detach();
  auto up = outcome.get();
  if (!up)
    return up.error();
  stream_endpoint out;
  out.fd = std::move(ours);
  out.owner = std::make_shared<pump_owner>(stop);
  out.description = std::string{s.libssh_flavour ? "libssh:" : "libssh2:"} + s.user + "@" + s.host +
                    ":" + std::to_string(s.port);
  out.explain_end = [report, err]() { return explain(*report, err); };
  return out;
}

} // namespace virtactor::client

#pragma pop_macro("unix")
