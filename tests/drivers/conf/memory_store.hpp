/// An in-memory `state_store` for tests of code that persists documents:
/// the same contract as the file store (names, missing documents, sorted
/// listings), plus failure injection and a view of what was written.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/conf/state_store.hpp"

namespace virtactor::drivers::conf::testing {

class memory_store final : public state_store {
public:
  result<void> save(const std::string& name, std::string_view text) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = check(name))
      return *err;
    docs_[name] = std::string{text};
    ++writes_;
    return {};
  }

  result<std::optional<std::string>> load(const std::string& name) const override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!valid_document_name(name))
      return invalid(name);
    auto i = docs_.find(name);
    if (i == docs_.end())
      return std::optional<std::string>{};
    return std::optional<std::string>{i->second};
  }

  result<void> remove(const std::string& name) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = check(name))
      return *err;
    docs_.erase(name);
    ++writes_;
    return {};
  }

  result<std::vector<std::string>> list(std::string_view suffix = {}) const override {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<std::string> out;
    for (auto& [name, text] : docs_) // std::map: already sorted
      if (name.ends_with(suffix))
        out.push_back(name);
    return out;
  }

  /// The next `save` or `remove` fails with `err` and changes nothing.
  void fail_next_write(virt_error err) {
    std::lock_guard<std::mutex> guard{mtx_};
    fail_ = std::move(err);
  }

  /// Every document, by name.
  std::map<std::string, std::string> documents() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return docs_;
  }

  /// Successful saves and removes so far.
  size_t writes() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return writes_;
  }

private:
  static virt_error invalid(const std::string& name) {
    return make_virt_error(error_code::internal_error, error_domain::conf,
                           "internal error: invalid document name '" + name + "'");
  }

  std::optional<virt_error> check(const std::string& name) {
    if (!valid_document_name(name))
      return invalid(name);
    if (fail_)
      return std::exchange(fail_, std::nullopt);
    return std::nullopt;
  }

  mutable std::mutex mtx_;
  std::map<std::string, std::string> docs_;
  std::optional<virt_error> fail_;
  size_t writes_ = 0;
};

} // namespace virtactor::drivers::conf::testing
