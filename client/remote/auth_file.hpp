/// libvirt's auth.conf (`virAuthConfig`): credentials a client takes from a
/// file before it asks its caller. The file is the URI's `authfile=`, else
/// $LIBVIRT_AUTH_FILE, else $XDG_CONFIG_HOME/libvirt/auth.conf (default
/// ~/.config), else /etc/libvirt/auth.conf: the first that exists. In it,
/// `[auth-libvirt-HOST]` (or `[auth-libvirt-default]`) names a
/// `[credentials-NAME]` group with `username`, `authname`, `password` and
/// `realm` keys.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "actors/connect_auth.hpp"
#include "client/uri.hpp"

namespace virtactor::client {

/// The value of `key` ("authname", "password", ...) for `host`, from the
/// auth.conf text `text`; nothing when the file has none.
std::optional<std::string> auth_file_lookup(const std::string& text, const std::string& host,
                                            const std::string& key);

/// `caller`'s callbacks, answering first from the auth.conf that applies to
/// `t` (unchanged when there is none).
std::shared_ptr<const connect_auth> with_auth_file(std::shared_ptr<const connect_auth> caller,
                                                   const remote_target& t);

} // namespace virtactor::client
