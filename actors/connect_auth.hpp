/// Credential callbacks a caller hands to `open` (libvirt's `virConnectAuth`):
/// transports that must ask a person something (an SSH passphrase, a password,
/// whether to trust a host key) call them; they never leave the process.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace virtactor {

/// What a credential asks for, numbered as libvirt's `virConnectCredentialType`.
enum class credential_type : int32_t {
  username = 1,     ///< identity to act as
  authname = 2,     ///< identity to authorize as
  language = 3,     ///< RFC 1766 language
  cnonce = 4,       ///< client supplied nonce
  passphrase = 5,   ///< passphrase secret
  echoprompt = 6,   ///< challenge response, shown while typed
  noechoprompt = 7, ///< challenge response, hidden while typed
  realm = 8,        ///< authentication realm
  external = 9,     ///< externally managed credential
};

/// One question (`virConnectCredential`); the callback fills `result`.
struct credential {
  credential_type type = credential_type::echoprompt;
  std::string prompt;
  std::optional<std::string> challenge;
  std::optional<std::string> default_result;
  /// The answer; unset means "no answer" (the transport treats it as a refusal
  /// where libvirt does).
  std::optional<std::string> result;
};

/// The caller's side of authentication: which credential types it can
/// answer, and the function that answers a batch of them.
struct connect_auth {
  std::vector<credential_type> types;
  /// Fills the `result` of each credential; returns false when it cannot
  /// (libvirt's callback returning -1). May block (it may ask a person); it
  /// runs on a transport's own thread, never on an actor thread.
  std::function<bool(std::vector<credential>&)> callback;

  /// True when `t` is in `types` and there is a callback.
  bool offers(credential_type t) const {
    if (!callback)
      return false;
    for (auto x : types)
      if (x == t)
        return true;
    return false;
  }
};

} // namespace virtactor
