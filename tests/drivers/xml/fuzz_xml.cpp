// Fuzz target for the XML model: one input is one document, parsed as a
// domain, a network, a pool and a volume. Whatever parses must format, the
// formatted document must parse again (the model reads what it writes), and
// the text must settle after a round. Parse errors are fine; crashes, hangs
// and broken round trips are violations.
//
// Built as an ordinary program, main() runs the corpus (tests/drivers/xml/
// fuzz-corpus and the xml2xml data); CTest runs that. With -DVA_FUZZ=ON under
// clang it is a libFuzzer target; see docs/security.md.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "drivers/xml/domain_xml.hpp"
#include "drivers/xml/network_xml.hpp"
#include "drivers/xml/storage_xml.hpp"

using namespace virtactor;
using namespace virtactor::drivers;

namespace {

[[noreturn]] void violated(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "fuzz_xml: %s\n--- input ---\n%.*s\n--- detail ---\n%s\n", what,
               static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

/// Parse, and if that works: what is formatted must parse again, and after
/// one more round the text must not change. (One round may reorder: libvirt
/// sorts unindexed controllers as it inserts them, and so does the model.)
template <class Parse, class Format>
void round_trip(const char* kind, std::string_view text, Parse parse, Format format) {
  auto first = parse(text);
  if (!first)
    return;
  auto once = format(*first);
  auto second = parse(once);
  if (!second)
    violated(kind, text, "the formatted document does not parse: " + second.error().message +
                           "\n" + once);
  auto twice = format(*second);
  auto third = parse(twice);
  if (!third)
    violated(kind, text, "the formatted document does not parse: " + third.error().message +
                           "\n" + twice);
  auto thrice = format(*third);
  if (thrice != twice)
    violated(kind, text, "formatting does not settle:\n" + twice + "\n---\n" + thrice);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  xml::domain_parse opts;
  opts.uuid_if_absent = xdr::uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  opts.default_arch = "x86_64";
  round_trip(
    "domain", text, [&](std::string_view t) { return xml::parse_domain(t, opts); },
    [](const xml::domain_def& d) { return xml::format_domain(d); });
  round_trip(
    "network", text, [](std::string_view t) { return xml::parse_network(t); },
    [](const xml::network_def& n) { return xml::format_network(n); });
  round_trip(
    "pool", text, [](std::string_view t) { return xml::parse_pool(t); },
    [](const xml::pool_def& p) { return xml::format_pool(p); });
  round_trip(
    "volume", text, [](std::string_view t) { return xml::parse_volume(t, "dir"); },
    [](const xml::volume_def& v) { return xml::format_volume(v); });
  return 0;
}

#include "tests/fuzz/corpus_main.hpp"

#ifndef VA_LIBFUZZER
int main(int argc, char** argv) {
  return virtactor::fuzz::run_corpus("fuzz_xml", argc, argv,
                                     {VA_FUZZ_SOURCE_DIR "/fuzz-corpus/xml",
                                      VA_FUZZ_SOURCE_DIR "/data"});
}
#endif
