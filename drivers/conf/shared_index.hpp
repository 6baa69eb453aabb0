/// The domain index of one driver state, shared under a reader-writer lock
/// (libvirt's `virDomainObjList` with its RW lock). The state actor and its
/// domain actors write it (a domain actor before it replies to the call that
/// changed its domain, so a lookup or listing that follows sees the change);
/// the daemon's sessions answer lookups and listings from it on CAF's I/O
/// thread, with no actor hop and no thread crossing. Every critical section
/// is a copy in or a walk over the summaries: microseconds.
#pragma once

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "drivers/conf/domain_list.hpp"

namespace virtactor::drivers::conf {

class shared_index {
public:
  explicit shared_index(driver_traits traits) : list_(std::move(traits)) {}

  /// Runs `f(const domain_list&)` under the shared lock.
  template <class F>
  auto read(F&& f) const {
    std::shared_lock lock(mutex_);
    return std::forward<F>(f)(static_cast<const domain_list&>(list_));
  }

  /// Runs `f(domain_list&)` under the exclusive lock.
  template <class F>
  auto write(F&& f) {
    std::unique_lock lock(mutex_);
    return std::forward<F>(f)(list_);
  }

private:
  mutable std::shared_mutex mutex_;
  domain_list list_;
};

} // namespace virtactor::drivers::conf
