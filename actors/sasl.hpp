/// libvirt's SASL authentication on Cyrus SASL, both ends: the server side of
/// one exchange (REMOTE_PROC_AUTH_SASL_INIT/START/STEP in the daemon), the
/// client side (the remote driver), and the security layer (SSF) a finished
/// exchange may leave on the stream. The application name is "libvirt", so
/// SASL reads `libvirt.conf` (mech_list, sasldb_path, ...) from its
/// configuration path, and SASL_CONF_PATH overrides that path.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/connect_auth.hpp"
#include "actors/stream.hpp"
#include "actors/stream_codec.hpp"
#include "protocol/error.hpp"

namespace virtactor::sasl {

/// What an exchange demands of its channel. libvirt asks for an SSF of at
/// least 56 on plain TCP and refuses anonymous and plaintext mechanisms there
/// (so SCRAM, which has no security layer, is not offered and DIGEST-MD5 is);
/// on unix sockets and TLS it asks nothing, and TLS's key size counts as
/// external SSF.
struct security {
  int min_ssf = 0;
  int max_ssf = 0;
  bool allow_anonymous = true;
  int external_ssf = 0;

  /// libvirt's choice for a channel that is `secure` (unix or TLS) or not.
  static security for_channel(bool secure, int tls_ssf);
};

/// The outcome of one step: done, and the data for the peer (nullopt is
/// SASL's NULL, which SASL tells from "").
struct step_result {
  bool complete = false;
  std::optional<std::string> data;
};

struct conn;

/// The daemon's end of one exchange.
class server {
public:
  /// A fresh exchange for a client at `peer`.
  static result<std::unique_ptr<server>> make(const stream_peer& peer, security sec);
  ~server();

  /// The mechanisms this channel allows, comma-separated ("DIGEST-MD5,SCRAM-SHA-256").
  result<std::string> mechanisms() const;
  result<step_result> start(const std::string& mech, const std::optional<std::string>& in);
  result<step_result> step(const std::optional<std::string>& in);
  /// The negotiated security strength (0: no layer).
  int ssf() const;
  /// The authenticated identity.
  result<std::string> username() const;
  /// The layer for the stream once the exchange is complete, or null when it
  /// left none (SSF 0).
  std::shared_ptr<stream_codec> layer() const;

private:
  explicit server(std::shared_ptr<conn> c) : conn_(std::move(c)) {}
  std::shared_ptr<conn> conn_;
};

/// The client's end of one exchange.
class client {
public:
  /// A fresh exchange with the daemon on `hostname` ("localhost" on unix
  /// sockets). `auth` answers the questions the mechanism asks (authname,
  /// passphrase, realm, ...); it may be null (nothing can be asked).
  static result<std::unique_ptr<client>> make(const std::string& hostname, const stream_peer& peer,
                                             security sec,
                                             std::shared_ptr<const connect_auth> auth);
  ~client();

  /// Picks a mechanism from the server's `mechlist` and makes the first
  /// message; may block in `auth`'s callback.
  result<step_result> start(const std::string& mechlist, std::string& mech);
  /// The next message for the server's `in`; may block in `auth`'s callback.
  result<step_result> step(const std::optional<std::string>& in);
  int ssf() const;
  std::shared_ptr<stream_codec> layer() const;

private:
  client(std::shared_ptr<conn> c, std::shared_ptr<const connect_auth> auth)
      : conn_(std::move(c)), auth_(std::move(auth)) {}
  /// Asks `auth_` for what SASL wants; false when it cannot answer.
  result<void> interact(void* prompts);
  std::shared_ptr<conn> conn_;
  std::shared_ptr<const connect_auth> auth_;
};

/// True when `identity` matches one of the fnmatch globs in `allowed`.
bool identity_allowed(const std::string& identity, const std::vector<std::string>& allowed);

} // namespace virtactor::sasl
