#include "client/ssh_helper/ssh_helper.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#pragma push_macro("unix")
#undef unix

namespace virtactor::ssh_helper {

std::variant<options, std::string> parse_options(const std::vector<std::string>& argv) {
  options out;
  bool positional_only = false;
  for (size_t i = 1; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (positional_only || a.size() < 2 || a[0] != '-') {
      out.args.push_back(a);
      continue;
    }
    if (a == "--") {
      positional_only = true;
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      if (a == "--readonly")
        out.read_only = true;
      else if (a == "--version")
        out.version = true;
      else if (a == "--help")
        out.help = true;
      else
        return "Unknown option " + a;
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) {
      switch (a[k]) {
        case 'r':
          out.read_only = true;
          break;
        case 'V':
          out.version = true;
          break;
        case 'h':
        case '?':
          out.help = true;
          break;
        default:
          return "Unknown option -" + std::string(1, a[k]);
      }
    }
  }
  return out;
}

std::string usage(const std::string& name) {
  return "Usage:\n"
         "  " +
         name +
         " [OPTION?] URI - libvirt socket proxy\n"
         "\n"
         "Carries one libvirt connection between stdin/stdout and the local\n"
         "daemon's socket. Run by ssh on behalf of a remote client, not by hand.\n"
         "\n"
         "Help Options:\n"
         "  -h, --help         Show help options\n"
         "\n"
         "Application Options:\n"
         "  -r, --readonly     Connect read-only\n"
         "  -V, --version      Display version information\n"
         "\n";
}

socket_choice choose_socket(const std::string& uri_text, bool read_only,
                            const client::local_env& env) {
  auto u = client::parse_uri(uri_text);
  if (!u) {
    // A text without a scheme parses for libvirt, whose scheme split fails.
    if (u.error().code == error_code::no_connect)
      return {std::nullopt, "cannot parse URI transport '" + uri_text +
                                "': invalid argument: missing scheme for URI"};
    return {std::nullopt, "cannot parse '" + uri_text + "': " + u.error().message};
  }
  auto kind = u->host ? client::transport::tls : client::transport::unix;
  if (u->transport) {
    auto named = client::parse_transport(*u->transport);
    if (!named)
      return {std::nullopt, "cannot parse URI transport '" + uri_text +
                                "': invalid argument: remote_open: transport in URL not recognised "
                                "(should be tls|unix|ssh|ext|tcp|libssh2|libssh)"};
    kind = *named;
  }
  if (kind != client::transport::unix)
    return {std::nullopt, "unexpected URI transport '" + uri_text + "'"};
  auto t = client::make_remote_target(*u, env);
  if (!t)
    return {std::nullopt, "cannot parse URI transport '" + uri_text + "': " + t.error().message};
  if (t->socket)
    return {t->socket, {}};
  auto path = client::default_unix_socket(
      client::socket_query{client::transport::unix, t->mode, t->driver, read_only, t->session},
      env);
  if (!path)
    return {std::nullopt, "failed to generate UNIX socket path: " + path.error().message};
  return {*path, {}};
}

namespace {

/// Bytes read from one side, waiting to be written to the other.
struct lane {
  int from;
  int to;
  std::vector<char> buf;
  size_t start = 0; // first unwritten byte
  bool eof = false;

  bool empty() const { return start == buf.size(); }
};

constexpr size_t lane_size = 64 * 1024;

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/// Reads once into `l`; false on a read error (text in `error`).
bool fill(lane& l, std::string& error, const char* what) {
  char chunk[16384];
  auto n = ::read(l.from, chunk, sizeof chunk);
  if (n > 0) {
    if (l.empty()) {
      l.buf.clear();
      l.start = 0;
    }
    l.buf.insert(l.buf.end(), chunk, chunk + n);
    return true;
  }
  if (n == 0) {
    l.eof = true;
    return true;
  }
  if (errno == EAGAIN || errno == EINTR)
    return true;
  if (errno == ECONNRESET) { // the peer went away: an end, not a failure
    l.eof = true;
    return true;
  }
  error = std::string{"cannot read from "} + what + ": " + std::strerror(errno);
  return false;
}

/// Writes what `l` holds; false on a write error.
bool drain(lane& l, std::string& error, const char* what) {
  while (!l.empty()) {
    auto n = ::write(l.to, l.buf.data() + l.start, l.buf.size() - l.start);
    if (n > 0) {
      l.start += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return true;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) { // the reader left: an end
      l.start = l.buf.size();
      l.eof = true;
      return true;
    }
    error = std::string{"cannot write to "} + what + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace

std::optional<std::string> proxy(int in, int out, int sock) {
  // The helper is its own process: restoring the flags of the standard
  // descriptors on exit is not needed, and ssh gives it private ones.
  set_nonblocking(in);
  set_nonblocking(out);
  set_nonblocking(sock);
  lane up{in, sock, {}}, down{sock, out, {}};
  auto room = [](const lane& l) { return l.buf.size() - l.start < lane_size; };
  std::string error;
  for (;;) {
    // Either side ending ends the proxy once what it sent is delivered.
    if ((up.eof && up.empty()) || (down.eof && down.empty()))
      return std::nullopt;
    auto in_events = static_cast<short>(!up.eof && room(up) ? POLLIN : 0);
    auto sock_events =
        static_cast<short>((!down.eof && room(down) ? POLLIN : 0) | (!up.empty() ? POLLOUT : 0));
    auto out_events = static_cast<short>(!down.empty() ? POLLOUT : 0);
    // A descriptor that ended is left out: its POLLHUP would wake us forever.
    pollfd fds[3] = {{up.eof ? -1 : in, in_events, 0},
                     {down.eof && up.empty() ? -1 : sock, sock_events, 0},
                     {out, out_events, 0}};
    if (in == out) { // one socket carries both directions
      fds[0] = {in_events || out_events ? in : -1, static_cast<short>(in_events | out_events), 0};
      fds[2].fd = -1;
    }
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      return std::string{"poll failed: "} + std::strerror(errno);
    }
    auto in_ev = fds[0].revents;
    auto out_ev = in == out ? fds[0].revents : fds[2].revents;
    if ((in_ev & (POLLIN | POLLHUP | POLLERR)) && !up.eof && !fill(up, error, "stdin"))
      return error;
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && !down.eof &&
        !fill(down, error, "socket"))
      return error;
    if ((fds[1].revents & (POLLOUT | POLLERR)) && !drain(up, error, "socket"))
      return error;
    if ((out_ev & (POLLOUT | POLLERR | POLLHUP)) && !drain(down, error, "stdout"))
      return error;
    if ((out_ev & (POLLERR | POLLHUP)) && in != out && down.empty())
      return std::nullopt; // nobody reads our stdout any more
  }
}

} // namespace virtactor::ssh_helper

#pragma pop_macro("unix")
