#include "actors/frame_broker.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/scribe.hpp>

#include "actors/atoms.hpp"
#include "protocol/header.hpp"
#include "protocol/xdr.hpp"

namespace virtactor {

using caf::io::receive_policy;

caf::behavior frame_broker(caf::io::broker* self, caf::io::connection_handle hdl,
                           peer_factory make_peer) {
  auto peer = make_peer(caf::actor{self});
  if (!peer) {
    self->close(hdl);
    self->quit();
    return {};
  }
  self->monitor(peer);
  // Expecting a length word (true) or the rest of a message (false).
  auto want_length = std::make_shared<bool>(true);
  auto finish = [self, hdl, peer](std::string reason) {
    caf::anon_send(peer, closed_atom::value, std::move(reason), self->id());
    self->close(hdl);
    self->quit();
  };
  self->set_down_handler([self, hdl](const caf::down_msg&) {
    // The peer is gone: nothing left to carry.
    self->close(hdl);
    self->quit();
  });
  self->configure_read(hdl, receive_policy::exactly(protocol::length_size));
  return {
    [self, hdl, peer, want_length, finish](caf::io::new_data_msg& msg) {
      if (*want_length) {
        auto len = protocol::parse_length(msg.buf.data());
        if (!len) {
          finish("message length word outside libvirt's limits");
          return;
        }
        *want_length = false;
        self->configure_read(hdl, receive_policy::exactly(*len - protocol::length_size));
        return;
      }
      *want_length = true;
      caf::anon_send(peer, frame_atom::value, xdr::buffer{msg.buf.begin(), msg.buf.end()},
                     self->id());
      self->configure_read(hdl, receive_policy::exactly(protocol::length_size));
    },
    [self, hdl](frame_atom, const xdr::buffer& out) {
      auto& buf = self->wr_buf(hdl);
      buf.insert(buf.end(), out.begin(), out.end());
      self->flush(hdl);
    },
    [self, hdl](close_atom) {
      self->flush(hdl);
      self->close(hdl);
      self->quit();
    },
    [finish](const caf::io::connection_closed_msg&) { finish("end of file"); },
  };
}

caf::actor spawn_frame_broker(caf::actor_system& sys, stream_endpoint stream,
                              peer_factory make_peer) {
  if (!stream.make_scribe && !stream.owner)
    return spawn_frame_broker(sys, stream.fd.release(), std::move(make_peer));
  auto impl = [](caf::io::broker* self, std::shared_ptr<stream_endpoint> s,
                 peer_factory make_peer) -> caf::behavior {
    caf::io::connection_handle hdl;
    if (s->make_scribe) {
      auto scribe = s->make_scribe(self);
      hdl = scribe->hdl();
      self->add_scribe(std::move(scribe));
    } else {
      hdl = self->add_scribe(s->fd.release());
    }
    // Keep the owner (child process, pump, TLS state) until the broker ends.
    self->attach_functor([owner = std::move(s->owner)]() mutable { owner.reset(); });
    return frame_broker(self, hdl, std::move(make_peer));
  };
  return sys.middleman().spawn_broker(impl, std::make_shared<stream_endpoint>(std::move(stream)),
                                      std::move(make_peer));
}

caf::actor spawn_frame_broker(caf::actor_system& sys, int fd, peer_factory make_peer) {
  auto impl = [](caf::io::broker* self, int fd, peer_factory make_peer) -> caf::behavior {
    auto hdl = self->add_scribe(fd);
    return frame_broker(self, hdl, std::move(make_peer));
  };
  return sys.middleman().spawn_broker(impl, fd, std::move(make_peer));
}

} // namespace virtactor
