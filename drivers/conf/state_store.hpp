/// Persistent documents of a driver (definitions, status files) behind a
/// small boundary interface: the daemon stores files in a directory, tests
/// can put an in-memory fake there (tests/drivers/conf/memory_store.hpp).
///
/// Names are plain file names: not empty, no '/', no NUL, not starting with
/// '.' (dot files are the store's temporaries).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::drivers::conf {

/// A set of named text documents.
class state_store {
public:
  virtual ~state_store() = default;

  /// Replaces (or creates) document `name` with `text`, atomically: a reader,
  /// or a daemon started after a crash at any instant, finds the old text or
  /// the new one, never a mix, a truncation or nothing.
  virtual result<void> save(const std::string& name, std::string_view text) = 0;

  /// The text of `name`, or nullopt when there is no such document.
  virtual result<std::optional<std::string>> load(const std::string& name) const = 0;

  /// Removes `name`; removing a missing document succeeds.
  virtual result<void> remove(const std::string& name) = 0;

  /// The names that end in `suffix` (all names for an empty suffix), sorted.
  virtual result<std::vector<std::string>> list(std::string_view suffix = {}) const = 0;
};

/// Whether `name` is acceptable as a document name (see the file comment).
bool valid_document_name(std::string_view name);

/// A store of files in directory `dir` (created, with its parents, mode 0700,
/// if missing). Each file is written with mode 0600 to a temporary file in
/// the same directory, synced, renamed over the old one, and the directory
/// synced. Temporaries left by a crash are removed when the store opens.
result<std::unique_ptr<state_store>> open_file_store(const std::string& dir);

} // namespace virtactor::drivers::conf
