/// The qemu driver's state backend: its host (type, versions, node info,
/// capabilities), how it reads domain XML, and the domains it starts with:
/// the definitions in its config directory and the running domains of its
/// status files (reattached by their domain actors).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "drivers/conf/state_backend.hpp"
#include "drivers/qemu/driver_context.hpp"

namespace virtactor::drivers::qemu {

class qemu_state final : public conf::state_backend {
public:
  explicit qemu_state(std::shared_ptr<driver_context> ctx);

  const conf::driver_traits& traits() const override;
  std::vector<std::unique_ptr<conf::domain_object>> take_initial_domains() override;
  std::unique_ptr<conf::domain_backend> make_backend() override;
  result<xml::domain_def> parse_for_define(std::string_view xml, uint32_t flags) override;
  result<xml::domain_def> parse_for_create(std::string_view xml, uint32_t flags) override;
  result<xdr::buffer> call(int32_t proc, const std::any& args, conf::call_context& ctx) override;

  /// What loading skipped (broken definitions or status files), for the log.
  const std::vector<std::string>& warnings() const { return warnings_; }

private:
  std::string capabilities_xml() const;

  std::shared_ptr<driver_context> ctx_;
  std::vector<std::string> warnings_;
};

} // namespace virtactor::drivers::qemu
