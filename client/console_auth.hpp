/// The credential callbacks of a program run at a terminal, as libvirt's
/// `virConnectAuthPtrDefault` (what virsh passes to `virConnectOpenAuth`):
/// each question is printed as "PROMPT: " on `out` and answered with a line
/// read from `in`; secrets (passphrase, no-echo prompt) are read with the
/// terminal's echo turned off when `in` is a terminal.
#pragma once

#include <cstdio>
#include <memory>

#include "actors/connect_auth.hpp"

namespace virtactor::client {

/// Answers authname, echo prompt, realm, passphrase and no-echo prompt
/// questions (libvirt's default set, less PolicyKit's external one). An empty
/// line or end of input answers with the question's default, else "" (as
/// libvirt's default callback does). The streams must outlive the connection
/// attempts that use the callbacks.
std::shared_ptr<const connect_auth> console_auth(std::FILE* in = stdin, std::FILE* out = stdout);

} // namespace virtactor::client
