// Writes sample messages for every procedure in VA_REMOTE_PROCS, together with
// where each of their fields lies, so that dissector_layout.py can check that
// the libvirt 9.0 Wireshark dissector (generated from libvirt's own .x files)
// finds the very same fields at the very same offsets, and refuses the same
// over-long arrays.
//
// usage: protocol_layout_samples OUTDIR
//   OUTDIR/messages.bin  the messages, back to back
//   OUTDIR/expect.tsv    per message: index, name, mode, fields
//     mode "full":   the dissector must show exactly these fields
//     mode "prefix": an array or char array one over its maximum: the dissector
//                    must show these fields (those before it) and stop there
//     fields: "offset:size" of every field the dissector shows as a leaf
//             (numbers, strings, uuids, chars), offsets from the length word
//
// Exits non-zero when our own decoder disagrees with a sample: a full sample
// that does not decode back, or an over-long one that decodes.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "protocol/header.hpp"
#include "protocol/procedures.hpp"
#include "tests/protocol/sample_values.hpp"
#include "tests/protocol/wire_catalog.hpp"

using namespace virtactor;
using namespace virtactor::protocol;

namespace {

/// A sampler that can push its `index`-th bounded field (variable array or
/// char array, in encounter order) to its maximum, or one past it.
class bounded_sampler : public test::sampler {
public:
  bounded_sampler(uint32_t seed, int index, bool over)
    : test::sampler(seed), index_(index), over_(over) {
    // nop
  }

  template <class... Ts>
  void operator()(Ts&... xs) {
    (fill(xs), ...);
  }

  template <class T>
  void fill(T& x) {
    if constexpr (requires { sampler::fill(x); })
      sampler::fill(x);
  }
  template <class T>
  void fill(std::optional<T>& x) {
    // Optionals on the way to the pushed field are always present.
    x.emplace();
    fill(*x);
  }
  template <class T, uint32_t Max>
  void fill(xdr::array<T, Max>& xs) {
    if (bounded_++ != index_) {
      xs.resize(1);
      fill(xs[0]);
      return;
    }
    xs.resize(Max + (over_ ? 1 : 0));
    for (auto& x : xs)
      fill(x);
  }
  template <uint32_t Max>
  void fill(xdr::char_array<Max>& x) {
    if (bounded_++ != index_) {
      x = "ab";
      return;
    }
    x.assign(Max - 1 + (over_ ? 1 : 0), 'c');
  }
  template <class T>
    requires xdr::has_fields<T>
  void fill(T& x) {
    x.xdr_fields(*this);
  }

  /// How many bounded fields the filled value had.
  int bounded() const { return bounded_; }

private:
  int index_;
  bool over_;
  int bounded_ = 0;
};

/// Walks an encoded value as the dissector does and lists its leaf fields.
/// With `stop_at` set, stops (and remembers where) at that bounded field.
class layout {
public:
  layout(size_t start, int stop_at) : pos_(start), stop_at_(stop_at) {
    // nop
  }

  std::vector<std::pair<size_t, size_t>> leaves;

  template <class... Ts>
  void operator()(const Ts&... xs) {
    (put(xs), ...);
  }

  void put(uint32_t) { leaf(4); }
  void put(int32_t) { leaf(4); }
  void put(uint64_t) { leaf(8); }
  void put(int64_t) { leaf(8); }
  void put(double) { leaf(8); }
  template <class E>
    requires std::is_enum_v<E>
  void put(E) {
    leaf(4);
  }
  void put(const std::string& x) { leaf(padded(x.size())); }
  void put(const xdr::uuid&) { leaf(16); }
  void put(const xdr::empty&) {
    // nop
  }
  template <uint32_t N>
  void put(const xdr::fixed_chars<N>&) {
    for (uint32_t i = 0; i < N; ++i)
      leaf(4);
  }
  template <uint32_t Max>
  void put(const xdr::char_array<Max>& x) {
    if (stop_here())
      return;
    pos_ += 4;
    for (size_t i = 0; i <= x.size(); ++i)
      leaf(4);
  }
  template <class T>
  void put(const std::optional<T>& x) {
    if (stopped_)
      return;
    if (x) {
      pos_ += 4;
      put(*x);
    } else if constexpr (xdr::has_fields<T>) {
      pos_ += 4; // shown as a container, not a leaf
    } else {
      leaf(4);
    }
  }
  template <class... Arms>
  void put(const xdr::union_<Arms...>& x) {
    // The dissector shows the discriminant with the arm, not as a leaf.
    if (stopped_)
      return;
    pos_ += 4;
    std::visit([this](const auto& v) { put(v); }, x.value);
  }
  template <class T, uint32_t Max>
  void put(const xdr::array<T, Max>& xs) {
    if (stop_here())
      return;
    pos_ += 4;
    for (const auto& x : xs)
      put(x);
  }
  template <class T>
    requires xdr::has_fields<T>
  void put(const T& x) {
    x.xdr_fields(*this);
  }

private:
  static size_t padded(size_t n) { return 4 + (n + 3) / 4 * 4; }

  void leaf(size_t n) {
    if (stopped_)
      return;
    leaves.emplace_back(pos_, n);
    pos_ += n;
  }

  bool stop_here() {
    if (stopped_ || bounded_++ == stop_at_)
      stopped_ = true;
    return stopped_;
  }

  size_t pos_;
  int stop_at_;
  int bounded_ = 0;
  bool stopped_ = false;
};

class writer {
public:
  explicit writer(const std::string& dir)
    : bin_(dir + "/messages.bin", std::ios::binary), tsv_(dir + "/expect.tsv") {
    // nop
  }

  bool ok() const { return bin_.good() && tsv_.good() && failures_ == 0; }

  /// Writes `body` under `hdr`; with `stop_at` >= 0, an over-long sample
  /// that the dissector must stop reading at that bounded field.
  /// `stop_at` -2: the dissector must stop right after the header (used for
  /// an over-long string, which `layout` does not count as bounded).
  template <class T>
  void add(const std::string& name, const header& hdr, const T& body, int stop_at = -1) {
    auto msg = make_message(hdr, body);
    layout lay{length_min, stop_at};
    if (stop_at != -2)
      lay.put(body);
    // Our decoder must agree: full samples decode back, over-long ones not.
    auto back = test::decode_message(msg.data(), msg.size());
    bool decodes = back.error.empty() && back.reencoded == msg;
    if (decodes != (stop_at == -1)) {
      std::fprintf(stderr, "layout_samples: our decoder %s %s\n",
                   decodes ? "accepts the over-long" : "refuses", name.c_str());
      ++failures_;
    }
    bin_.write(msg.data(), static_cast<std::streamsize>(msg.size()));
    tsv_ << count_++ << '\t' << name << '\t' << (stop_at == -1 ? "full" : "prefix") << '\t';
    for (size_t off = 0; off < length_min; off += 4)
      tsv_ << off << ":4,";
    for (auto [off, size] : lay.leaves)
      tsv_ << off << ':' << size << ',';
    tsv_ << '\n';
  }

  /// Samples of `T` with several seeds, then each bounded field of `T` at
  /// its maximum and one past it.
  template <class T>
  void add_all(const std::string& name, header hdr) {
    for (uint32_t seed = 0; seed < 6; ++seed) {
      hdr.serial = seed;
      add(name + " seed " + std::to_string(seed), hdr, test::sample<T>(seed));
    }
    int bounded = 0;
    {
      T probe{};
      bounded_sampler s{0, -1, false};
      s.fill(probe);
      bounded = s.bounded();
    }
    for (int i = 0; i < bounded; ++i) {
      for (bool over : {false, true}) {
        T x{};
        bounded_sampler s{7, i, over};
        s.fill(x);
        auto what = name + " bounded field " + std::to_string(i) + (over ? " over" : " at") + " max";
        add(what, hdr, x, over ? i : -1);
      }
    }
  }

private:
  std::ofstream bin_;
  std::ofstream tsv_;
  size_t count_ = 0;
  int failures_ = 0;
};

header make_header(int32_t proc, msg_type type, msg_status status = msg_status::ok) {
  header h;
  h.proc = proc;
  h.type = type;
  h.status = status;
  return h;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  writer out{argv[1]};
#define VA_SAMPLE(p, A, R, api_name, acc)                                                          \
  out.add_all<A>(#p " call", make_header(static_cast<int32_t>(proc::p), msg_type::call));          \
  out.add_all<R>(#p " reply", make_header(static_cast<int32_t>(proc::p), msg_type::reply));
  VA_REMOTE_PROCS(VA_SAMPLE)
#undef VA_SAMPLE
  for (int32_t p : {proc_domain_event_lifecycle, proc_domain_event_reboot,
                    proc_domain_event_callback_lifecycle, proc_domain_event_callback_reboot,
                    proc_connect_event_connection_closed, proc_domain_event_control_error,
                    proc_domain_event_callback_control_error}) {
    test::with_msg_type(p, [&]<class T>(std::type_identity<T>) {
      out.add_all<T>(std::string{proc_name(p)} + " message", make_header(p, msg_type::message));
    });
  }
  out.add_all<remote_error>("error reply",
                            make_header(static_cast<int32_t>(proc::domain_lookup_by_name),
                                        msg_type::reply, msg_status::error));
  // REMOTE_STRING_MAX: a 4 MiB document, and one byte more.
  auto define = make_header(static_cast<int32_t>(proc::domain_define_xml), msg_type::call);
  out.add("domain_define_xml call string at max", define,
          xml_args{std::string(xdr::string_max, 'x')});
  out.add("domain_define_xml call string over max", define,
          xml_args{std::string(xdr::string_max + 1, 'x')}, -2);
  return out.ok() ? 0 : 1;
}
