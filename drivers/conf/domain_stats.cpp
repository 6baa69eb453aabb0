#include "drivers/conf/domain_stats.hpp"

#include <cstdio>

#include "drivers/conf/errors.hpp"

namespace virtactor::drivers::conf {

namespace {

protocol::typed_param make(std::string field, protocol::typed_param_value v) {
  return protocol::typed_param{std::move(field), std::move(v)};
}

template <size_t I, class T>
protocol::typed_param_value arm_value(T v) {
  protocol::typed_param_value x;
  x.value.template emplace<I>(std::move(v));
  return x;
}

} // namespace

// The arms of remote_typed_param_value: 1 INT, 2 UINT, 3 LLONG, 4 ULLONG,
// 5 DOUBLE, 6 BOOLEAN, 7 STRING (variant indexes 0..6).
void stats_params::add_int(std::string field, int32_t v) {
  items_.push_back(make(std::move(field), arm_value<0>(v)));
}

void stats_params::add_uint(std::string field, uint32_t v) {
  items_.push_back(make(std::move(field), arm_value<1>(v)));
}

void stats_params::add_llong(std::string field, int64_t v) {
  items_.push_back(make(std::move(field), arm_value<2>(v)));
}

void stats_params::add_ullong(std::string field, uint64_t v) {
  items_.push_back(make(std::move(field), arm_value<3>(v)));
}

void stats_params::add_string(std::string field, std::string v) {
  items_.push_back(make(std::move(field), arm_value<6>(std::move(v))));
}

result<stats_request> check_stats_call(const driver_traits& traits,
                                       const protocol::connect_get_all_domain_stats_args& args) {
  auto allowed = traits.flags.all_domain_stats;
  if (!errors::flags_ok(args.flags, allowed))
    return errors::unsupported_flags(args.flags & ~allowed,
                                     traits.function("ConnectGetAllDomainStats"), traits.domain);
  stats_request req;
  req.groups = args.stats;
  if (req.groups == 0) {
    req.groups = traits.stats_groups;
  } else if ((args.flags & stats_flag::enforce_stats) && (req.groups & ~traits.stats_groups)) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", req.groups & ~traits.stats_groups);
    return make_virt_error(error_code::argument_unsupported, traits.domain,
                           std::string{"argument unsupported: Stats types bits "} + hex +
                             " are not supported by this daemon");
  }
  req.groups &= traits.stats_groups;
  req.nowait = (args.flags & stats_flag::nowait) != 0;
  req.backing = (args.flags & stats_flag::backing) != 0;
  return req;
}

std::vector<protocol::nonnull_domain>
stats_targets(const domain_list& index, const protocol::connect_get_all_domain_stats_args& args) {
  auto filter = args.flags & stats_flag::filters;
  std::vector<protocol::nonnull_domain> out;
  if (args.doms.empty()) {
    for (auto& s : index.domains())
      if (domain_listed(filter, s))
        out.push_back(s.dom);
    return out;
  }
  for (auto& d : args.doms) {
    auto* s = index.find_uuid(d.uuid);
    if (s && domain_listed(filter, *s))
      out.push_back(s->dom);
  }
  return out;
}

void add_state_stats(stats_params& out, int32_t state, int32_t reason) {
  out.add_int("state.state", state);
  out.add_int("state.reason", reason);
}

} // namespace virtactor::drivers::conf
