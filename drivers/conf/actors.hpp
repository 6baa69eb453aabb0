/// The typed messaging interfaces of a driver state and its domains: one
/// state actor per driver state (per open test URI; one for the qemu driver),
/// one domain actor per domain, supervised by the state actor.
///
/// ```
/// connection ──call──▶ state actor ──call (per-domain)──▶ domain actor ── backend
///      ▲                   │  ▲                               │
///      └──publish(event)───┘  └──────update(summary, events)──┘
/// ```
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/events.hpp"
#include "actors/inspect.hpp"
#include "drivers/conf/domain_object.hpp"
#include "drivers/conf/domain_stats.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::conf {

class state_backend;
class shared_index;

/// Asks a state actor for its shared domain index.
using index_atom = caf::atom_constant<caf::atom("va_index")>;

/// Redefinition or creation of a domain (the definition is parsed once, by
/// the state actor).
using define_atom = caf::atom_constant<caf::atom("va_define")>;
/// A message for a domain's backend from one of its helper actors.
using backend_atom = caf::atom_constant<caf::atom("va_backend")>;
/// One domain's record of a bulk statistics call.
using stats_atom = caf::atom_constant<caf::atom("va_stats")>;

/// One REMOTE procedure with its argument struct, decoded once (a
/// `protocol::proc_traits<P>::args` in `args`).
struct typed_call {
  int32_t proc = 0;
  std::any args;
  bool read_only = false;
};

/// A parsed definition for an existing domain (`create` false: DEFINE_XML)
/// or to start (`create` true: CREATE_XML; `fresh`: a domain made for it).
struct definition_call {
  xml::domain_def def;
  bool create = false;
  bool fresh = false;
};

/// What a domain actor tells its state actor after a change: the summary the
/// index keeps and the events to publish, in order.
struct domain_update {
  domain_summary summary;
  std::vector<domain_event> events;
};

/// Where a domain backend's helper actors (a QMP monitor, a process watcher)
/// send: the domain actor, as `(backend_atom, message)`. Messages from one
/// sender arrive in the order it sent them, replies to the domain actor's own
/// requests included.
using backend_sink = caf::typed_actor<caf::reacts_to<backend_atom, caf::message>>;

/// Where a driver state publishes domain events: the connections that listen.
using event_listener = caf::typed_actor<caf::reacts_to<publish_atom, domain_event>>;

/// One domain (libvirt's `virDomainObj` with its job lock): serialises the
/// jobs on that domain, answers reads at once, runs urgent calls (destroy)
/// even during a job. A statistics request is a read: it never waits for
/// the running job.
using domain_actor = caf::typed_actor<
  caf::replies_to<call_atom, typed_call>::with<xdr::buffer>,
  caf::replies_to<define_atom, definition_call>::with<xdr::buffer>,
  caf::replies_to<stats_atom, stats_request>::with<protocol::domain_stats_record>,
  caf::reacts_to<backend_atom, caf::message>>;

/// One driver state: the domain index and the driver's backend; routes
/// per-domain calls to domain actors, restarts a domain actor that fails,
/// fans events out to the connections that listen.
using state_actor = caf::typed_actor<
  caf::replies_to<call_atom, typed_call>::with<xdr::buffer>,
  caf::replies_to<index_atom>::with<std::shared_ptr<shared_index>>,
  caf::reacts_to<update_atom, domain_update>, caf::reacts_to<subscribe_atom, event_listener>,
  caf::reacts_to<unsubscribe_atom, event_listener>>;

/// Spawns the state actor over `backend`; it takes the backend's initial
/// domains and spawns their actors at once.
state_actor spawn_state(caf::actor_system& sys, std::unique_ptr<state_backend> backend);

} // namespace virtactor::drivers::conf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::drivers::conf::typed_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::drivers::conf::shared_index>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::drivers::conf::definition_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::drivers::conf::domain_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::drivers::conf::stats_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::protocol::domain_stats_record)
