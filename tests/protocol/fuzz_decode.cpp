// Fuzz target for the protocol decoder: one input is one message, length word
// included. Decodes the length word and the header, then the body as every
// struct the named procedure has (args, ret, event msg) and as an error, so
// the header's type and status do not hide any decoder from the fuzzer.
//
// Built as an ordinary program (the default), main() runs every file of the
// seed corpus directories given on the command line, or of tests/protocol/
// corpus, and CTest runs that as a test. Built with -DVA_FUZZ=ON under clang,
// libFuzzer provides main(); see tests/protocol/README.md.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "protocol/header.hpp"
#include "protocol/procedures.hpp"
#include "tests/protocol/wire_catalog.hpp"

using namespace virtactor;
using namespace virtactor::protocol;

namespace {

[[noreturn]] void violated(const char* what, const header& hdr) {
  std::fprintf(stderr, "fuzz_decode: %s (%s)\n", what, to_string(hdr).c_str());
  std::abort();
}

/// Decodes `T`; when that succeeds, the decoded value must encode without a
/// complaint, and decoding that encoding must give the same bytes again.
template <class T>
void decode_as(const header& hdr, const char* data, size_t size) {
  T x;
  xdr::decoder dec{data, size};
  dec.get(x);
  if (!dec.ok()) {
    if (dec.error().empty())
      violated("a failed decode gave no reason", hdr);
    return;
  }
  xdr::buffer once;
  xdr::encoder enc{once};
  enc.put(x);
  if (!enc.ok())
    violated("a decoded value does not encode", hdr);
  // Only a char array sent without its NUL grows (by one word); no struct
  // has more than two.
  if (once.size() > size + 8)
    violated("a decoded value encodes larger than its input", hdr);
  T y;
  if (!xdr::decode(once, y).empty())
    violated("the encoding of a decoded value does not decode", hdr);
  if (xdr::encode(y) != once)
    violated("encode(decode(encode(x))) differs from encode(x)", hdr);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = reinterpret_cast<const char*>(data);
  if (size < length_size)
    return 0;
  auto len = parse_length(p);
  if (!len)
    return 0;
  // A short input is a message cut short: decode what is there.
  size_t msg_size = std::min<size_t>(*len, size);
  header hdr;
  if (!decode_header(p + length_size, msg_size - length_size, hdr).empty())
    return 0;
  const char* body = p + length_min;
  size_t body_size = msg_size - length_min;
  auto each = [&]<class T>(std::type_identity<T>) { decode_as<T>(hdr, body, body_size); };
  test::with_args_type(hdr.proc, each);
  test::with_ret_type(hdr.proc, each);
  test::with_msg_type(hdr.proc, each);
  decode_as<remote_error>(hdr, body, body_size);
  test::with_body_type(hdr, each);
  (void) to_string(hdr);
  (void) proc_name(hdr.proc);
  (void) find_proc_info(hdr.proc);
  (void) check_args(hdr.proc, body, body_size);
  return 0;
}

#ifndef VA_LIBFUZZER

namespace {

std::vector<char> read_file(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void run(const std::vector<char>& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> dirs;
  for (int i = 1; i < argc; ++i)
    dirs.emplace_back(argv[i]);
  if (dirs.empty())
    dirs.emplace_back(VA_PROTOCOL_TEST_DIR "/corpus");
  size_t files = 0;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::filesystem::directory_iterator it{dir, ec};
    if (ec) {
      std::fprintf(stderr, "fuzz_decode: cannot read %s: %s\n", dir.c_str(), ec.message().c_str());
      return 1;
    }
    for (const auto& entry : it) {
      if (!entry.is_regular_file())
        continue;
      auto bytes = read_file(entry.path());
      // Each seed whole, and cut at every point: the cuts are the inputs a
      // fuzzer reaches first.
      for (size_t cut = 0; cut <= bytes.size(); ++cut)
        run({bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
      ++files;
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "fuzz_decode: no seed files found\n");
    return 1;
  }
  std::printf("fuzz_decode: %zu seed files, no violation\n", files);
  return 0;
}

#endif
