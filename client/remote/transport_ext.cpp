#include "actors/process.hpp"
#include "client/remote/transports.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

// libvirt runs `command=` as the whole argv (no arguments, no shell) with
// its short common environment; the stream is the command's stdin/stdout.
result<connector> ext_connector(const remote_target& t) {
  if (!t.command)
    return make_virt_error(
        error_code::invalid_arg, error_domain::remote,
        "invalid argument: remote_open: for 'ext' transport, command is required");
  process_spec spec;
  spec.argv = {*t.command};
  spec.env = command_environment();
  return connector{[spec = std::move(spec)]() -> result<stream_endpoint> {
    auto child = spawn_stream_process(spec);
    if (!child)
      return child.error();
    return process_endpoint(std::move(*child), "ext:" + spec.argv.front());
  }};
}

} // namespace virtactor::client

#pragma pop_macro("unix")
