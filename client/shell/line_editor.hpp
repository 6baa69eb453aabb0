/// The interactive shell's line editor, on GNU readline as virsh's: line
/// editing and key bindings (~/.inputrc, `$if virtactor`), history kept in
/// `$XDG_CACHE_HOME/virtactor/history` (virsh keeps its own in
/// `$XDG_CACHE_HOME/virsh/history`), and Tab completion of commands, options
/// and object names.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtactor::client::shell {

class line_editor {
public:
  /// Completes `text`, the word before the cursor in `line` (the line up to
  /// the cursor); `quoted` when the word opened with a quote. Nothing lets
  /// readline complete file names.
  using completer = std::function<std::optional<std::vector<std::string>>(
    std::string_view line, std::string_view text, bool quoted)>;

  /// Sets readline up under `name` and reads the history. `error` is set
  /// (and the history left alone) when `VIRTACTOR_HISTSIZE` is bad.
  line_editor(std::string name, completer complete, std::string& error);

  /// Writes the history back (creating its directory).
  ~line_editor();

  line_editor(const line_editor&) = delete;
  line_editor& operator=(const line_editor&) = delete;

  /// Reads one line after `prompt`; nothing at end of input.
  std::optional<std::string> read(const std::string& prompt);

  /// Remembers `line` in the history.
  void remember(const std::string& line);

  /// The history file, `$XDG_CACHE_HOME/NAME/history` (`~/.cache/...`).
  const std::string& history_file() const { return history_file_; }

private:
  std::string history_dir_;
  std::string history_file_;
};

} // namespace virtactor::client::shell
