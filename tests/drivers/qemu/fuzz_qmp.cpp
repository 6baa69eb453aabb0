// Fuzz target for the QMP codec (drivers/qemu/qmp.hpp): one input is what a
// QEMU monitor sends. The reader must give the same messages and the same
// error whatever the split of the bytes into reads (with the default line
// bound and with a small one), and every reply it gives must carry its value
// and id as JSON text that reads back to the same text. Errors are fine;
// crashes, hangs and split-dependent results are violations.
//
// Built as an ordinary program, main() runs tests/drivers/qemu/fuzz-corpus/qmp;
// CTest runs that. With -DVA_FUZZ=ON under clang it is a libFuzzer target;
// see docs/security.md.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/qemu/qmp.hpp"

using namespace virtactor;
using namespace virtactor::qemu;

namespace {

[[noreturn]] void violated(std::string_view input, const std::string& what) {
  std::fprintf(stderr, "fuzz_qmp: %s\n--- input ---\n%.*s\n", what.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

struct outcome {
  std::vector<qmp::message> messages;
  std::string error; // empty: every read succeeded
  size_t buffered = 0;
};

/// Feeds `bytes` to a reader bounded by `max_line`, in reads whose sizes come
/// from `seed` (0: one read).
outcome read_all(std::string_view bytes, size_t max_line, uint32_t seed) {
  qmp::reader r{max_line};
  outcome out;
  size_t i = 0;
  while (i < bytes.size() || i == 0) {
    size_t n = bytes.size() - i;
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<size_t>(n, 1 + (seed >> 16) % 17);
    }
    auto fed = r.feed(bytes.substr(i, n), out.messages);
    i += n;
    if (!fed) {
      out.error = fed.error().message;
      break;
    }
    if (bytes.empty())
      break;
  }
  if (out.error.empty())
    out.buffered = r.buffered();
  return out;
}

bool same(const qmp::message& a, const qmp::message& b) {
  return a.kind == b.kind && a.id == b.id && a.json == b.json && a.error_class == b.error_class &&
         a.error_desc == b.error_desc && a.event == b.event && a.seconds == b.seconds &&
         a.microseconds == b.microseconds;
}

void check_split_invariance(std::string_view input, size_t max_line, uint32_t seed) {
  auto whole = read_all(input, max_line, 0);
  auto split = read_all(input, max_line, seed);
  auto bound = " (line bound " + std::to_string(max_line) + ")";
  if (whole.error != split.error)
    violated(input, "one read ends with '" + whole.error + "', split reads with '" + split.error +
                      "'" + bound);
  if (whole.messages.size() != split.messages.size())
    violated(input, std::to_string(whole.messages.size()) + " messages in one read, " +
                      std::to_string(split.messages.size()) + " in split reads" + bound);
  for (size_t k = 0; k < whole.messages.size(); ++k)
    if (!same(whole.messages[k], split.messages[k]))
      violated(input, "message " + std::to_string(k) + " differs between one read and split reads" +
                        bound);
  if (whole.buffered != split.buffered)
    violated(input, "a different tail is held back after split reads" + bound);
}

/// A reply's value and id are JSON text: written back into a reply, they
/// read as the same value and id.
void check_reply_text(std::string_view input, const qmp::message& m) {
  if (m.kind != qmp::message_kind::reply)
    return;
  std::string line = "{\"return\":" + m.json;
  if (!m.id.empty())
    line += ",\"id\":" + m.id;
  line += "}";
  auto again = qmp::parse_line(line);
  if (!again)
    violated(input, "the reply's text '" + line + "' does not parse: " + again.error().message);
  if (again->kind != qmp::message_kind::reply || again->json != m.json || again->id != m.id)
    violated(input, "the reply's text '" + line + "' reads back as another reply");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  uint32_t seed = static_cast<uint32_t>(size) * 2654435761u + 1;
  for (size_t k = 0; k < std::min<size_t>(size, 8); ++k)
    seed = seed * 31 + data[k];
  seed |= 1;
  check_split_invariance(input, qmp::default_max_line, seed);
  check_split_invariance(input, 64, seed);
  for (const auto& m : read_all(input, qmp::default_max_line, 0).messages)
    check_reply_text(input, m);
  // One line as the monitor's own reads see it (no line end needed).
  if (auto m = qmp::parse_line(input))
    check_reply_text(input, *m);
  return 0;
}

#include "tests/fuzz/corpus_main.hpp"

#ifndef VA_LIBFUZZER
int main(int argc, char** argv) {
  return virtactor::fuzz::run_corpus("fuzz_qmp", argc, argv,
                                     {VA_FUZZ_SOURCE_DIR "/fuzz-corpus/qmp"});
}
#endif
