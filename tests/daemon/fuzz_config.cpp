// Fuzz target for the configuration parser (daemon/config.hpp): one input is
// one libvirtd.conf. It parses or fails with a clean "config line N"
// error; a file that parses yields settings within their documented ranges.
//
// Built as an ordinary program, main() runs tests/daemon/fuzz-corpus/config;
// CTest runs that. With -DVA_FUZZ=ON under clang it is a libFuzzer target.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.hpp"

using namespace virtactor;
using namespace virtactor::daemon;

namespace {

[[noreturn]] void violated(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_config: %s\n--- input ---\n%.*s\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::vector<std::string> warnings;
  auto entries = parse_conf(text);
  auto config = parse_config(text, warnings);
  if (!entries && config)
    violated("the syntax fails but the settings parse", text);
  if (!config) {
    if (config.error().message.rfind("config line ", 0) != 0)
      violated("an error without its line", text);
    return 0;
  }
  if (config->max_workers < 1 || config->log_level < 1 || config->log_level > 4 ||
      config->tcp_min_ssf < 56 || config->max_client_pending_calls < 1 ||
      config->max_client_unsent_bytes_hard < 32 * 1024 * 1024 + 4 ||
      config->unix_sock_rw_perms > 07777 || config->unix_sock_ro_perms > 07777)
    violated("a setting outside its documented range", text);
  for (auto& w : warnings)
    if (w.rfind("config line ", 0) != 0)
      violated("a warning without its line", text);
  return 0;
}

#include "tests/fuzz/corpus_main.hpp"

#ifndef VA_LIBFUZZER
int main(int argc, char** argv) {
  return virtactor::fuzz::run_corpus("fuzz_config", argc, argv,
                                     {VA_FUZZ_SOURCE_DIR "/fuzz-corpus/config"});
}
#endif
