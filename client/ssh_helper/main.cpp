// virtactor-ssh-helper: what virt-ssh-helper does, for hosts that run
// virtactord. ssh runs `virtactor-ssh-helper [-r] URI` on the far side of an
// ssh transport (install it as `virt-ssh-helper` in the remote PATH, or let
// clients fall back to `nc -U`); it connects to the daemon socket the URI
// means and carries bytes between that socket and stdin/stdout. Same command
// line, messages and exit codes as libvirt 9.0's helper.

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "actors/fd.hpp"
#include "client/ssh_helper/ssh_helper.hpp"

#ifndef VA_VERSION
#define VA_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace virtactor;
  std::string prog = argc > 0 ? argv[0] : "virtactor-ssh-helper";
  auto base = prog.substr(prog.rfind('/') == std::string::npos ? 0 : prog.rfind('/') + 1);
  auto parsed = ssh_helper::parse_options(std::vector<std::string>(argv, argv + argc));
  if (auto bad = std::get_if<std::string>(&parsed)) {
    std::cerr << "option parsing failed: " << *bad << "\n";
    return EXIT_FAILURE;
  }
  auto& opts = std::get<ssh_helper::options>(parsed);
  if (opts.help) {
    std::cout << ssh_helper::usage(base);
    return EXIT_SUCCESS;
  }
  if (opts.version) {
    std::cout << prog << " (virtactor) " << VA_VERSION << "\n";
    return EXIT_SUCCESS;
  }
  if (opts.args.size() != 1) {
    std::cerr << ssh_helper::usage(base);
    return EXIT_FAILURE;
  }
  const auto& uri = opts.args.front();
  auto choice = ssh_helper::choose_socket(uri, opts.read_only, client::local_env::from_process());
  if (!choice.path) {
    std::cerr << prog << ": " << choice.error << "\n";
    return EXIT_FAILURE;
  }
  auto sock = connect_unix(*choice.path, 30000);
  if (!sock) {
    std::cerr << prog << ": cannot connect to '" << *choice.path << "': " << sock.error().message
              << "\n";
    return EXIT_FAILURE;
  }
  // A peer that leaves mid-write is an end of the conversation, not a crash.
  std::signal(SIGPIPE, SIG_IGN);
  if (auto failed = ssh_helper::proxy(STDIN_FILENO, STDOUT_FILENO, sock->get())) {
    std::cerr << prog << ": could not proxy traffic: " << *failed << "\n";
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
