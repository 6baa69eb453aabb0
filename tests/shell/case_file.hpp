/// The shell comparison cases as data: a text file of cases, each one
/// invocation of a shell (argv after `-c URI`, optional stdin, environment
/// and output masks), so the same list can be replayed against any URI and
/// any virsh-compatible binary.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace virtactor::tests::shell {

/// One invocation and how to compare it.
struct shell_case {
  std::string name;                                     ///< a sentence
  std::vector<std::string> args;                        ///< argv after the URI options
  std::vector<std::pair<std::string, std::string>> env; ///< extra environment
  std::vector<std::string> masks;                       ///< regexes hidden in both outputs
  std::string stdin_text;                               ///< fed to the process
  bool raw = false;                                     ///< no `-c URI` in front of args
  std::string known_gap; ///< why virtactor differs today; empty when it must match
  /// Why the case holds only when both shells use the same URI (a local
  /// driver's own behaviour, which a daemon's remote connection rightly
  /// lacks); empty when it holds across URIs.
  std::string same_uri_only;
  int line = 0;          ///< where the case starts in the file
};

/// All cases of a file, plus the masks that apply to every case.
struct case_list {
  std::vector<shell_case> cases;
  std::vector<std::string> global_masks;
};

/// Parses the case file format:
///
///     # comment
///     mask-all: REGEX        (for every case)
///     case: A SENTENCE
///       arg: WORD            (one argv element, taken verbatim; repeatable)
///       arg-esc: WORD        (same, with \n \t \\ escapes)
///       stdin: LINE          (a line of input; repeatable)
///       env: NAME=VALUE
///       mask: REGEX
///       raw: yes             (the args carry their own global options)
///       known-gap: REASON    (a difference owned elsewhere: reported, not failed)
///       same-uri-only: REASON (compared only when both shells use the same URI)
///
/// Returns the cases or the first error as "line N: reason".
std::pair<std::optional<case_list>, std::string> parse_case_file(const std::string& text);

/// Replaces every match of each regex by "<masked>", line by line.
std::string apply_masks(const std::string& text, const std::vector<std::string>& masks);

} // namespace virtactor::tests::shell
