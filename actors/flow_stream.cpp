#include "actors/flow_stream.hpp"

#include <caf/io/abstract_broker.hpp>
#include <caf/io/doorman.hpp>

namespace virtactor::flow {

namespace {

/// CAF's doorman, but accepted connections get restartable scribes.
class doorman : public net::doorman_impl {
public:
  using doorman_impl::doorman_impl;

  bool new_connection() override {
    if (detached())
      return false;
    auto& mpx = acceptor_.backend();
    auto sptr = caf::make_counted<stream_scribe<socket_stream>>(
      acceptor_.accepted_socket(), std::string{}, mpx, acceptor_.accepted_socket());
    auto hdl = sptr->hdl();
    parent()->add_scribe(std::move(sptr));
    return caf::io::doorman::new_connection(&mpx, hdl);
  }
};

} // namespace

caf::io::scribe_ptr make_socket_scribe(caf::io::abstract_broker* broker, int fd) {
  auto& mpx = static_cast<net::default_multiplexer&>(broker->backend());
  return caf::make_counted<stream_scribe<socket_stream>>(fd, std::string{}, mpx, fd);
}

caf::io::accept_handle add_listener(caf::io::abstract_broker* broker, int fd) {
  auto& mpx = static_cast<net::default_multiplexer&>(broker->backend());
  auto ptr = caf::make_counted<doorman>(mpx, fd);
  auto hdl = ptr->hdl();
  broker->add_doorman(std::move(ptr));
  return hdl;
}

} // namespace virtactor::flow
