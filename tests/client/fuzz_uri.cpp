// Fuzz target for the URI grammar (actors/uri.hpp) and the remote driver's
// reading of a URI (client/uri.hpp): one input is one URI.
// A URI that parses must print as a URI that parses to the same print (when
// it has a host or an absolute path), and the remote driver's reading of it
// (transport, host, socket, parameters) must come out as a value or a clean
// error.
//
// Built as an ordinary program, main() runs tests/client/fuzz-corpus/uri;
// CTest runs that. With -DVA_FUZZ=ON under clang it is a libFuzzer target.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/uri.hpp"

using namespace virtactor;
using namespace virtactor::client;

namespace {

[[noreturn]] void violated(std::string_view input, const std::string& what) {
  std::fprintf(stderr, "fuzz_uri: '%.*s': %s\n", static_cast<int>(input.size()), input.data(),
               what.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto u = parse_uri(text);
  if (!u)
    return 0;
  // A URI with a host or an absolute (or no) path prints as a URI that
  // parses back to the same print. (A relative path without a host is
  // printed behind "//", as libvirt's virURIFormat does: "test+tcp:x" prints
  // as "test+tcp://x", where x then reads as a host, so those are only
  // printed and parsed again here, for crashes.)
  auto once = to_string(*u);
  auto again = parse_uri(once);
  bool hierarchical = u->host || u->user || u->path.empty() || u->path[0] == '/';
  if (hierarchical && (!again || to_string(*again) != once))
    violated(text, "prints as '" + once + "', which " +
                     (again ? "prints as '" + to_string(*again) + "'" : "does not parse"));
  local_env env;
  env.euid = 1000;
  env.home = "/home/fuzz";
  env.xdg_runtime_dir = "/run/user/1000";
  if (auto t = make_remote_target(*u, env)) {
    (void) unix_socket_path(*t, false, env, [](const std::string&) { return false; });
    (void) unix_socket_path(*t, true, env, [](const std::string&) { return true; });
  }
  return 0;
}

#include "tests/fuzz/corpus_main.hpp"

#ifndef VA_LIBFUZZER
int main(int argc, char** argv) {
  return virtactor::fuzz::run_corpus("fuzz_uri", argc, argv,
                                     {VA_FUZZ_SOURCE_DIR "/fuzz-corpus/uri"});
}
#endif
