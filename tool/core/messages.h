// Everything buildlock tells people goes to stderr through here, so that stdout stays free for
// the command's own output and for machine-readable output (`status --json`).
#pragma once

#include <string>
#include <string_view>

namespace buildlock::core {

// `text` made safe to print as (part of) one line on a terminal: control characters (C0, DEL and
// C1, which includes the CSI that starts terminal escape sequences) become `?`. Lock files are
// written by other users and hosts; a host name or command holding "\n" or "\e]0;" must neither
// forge a second `buildlock:` line nor drive the terminal.
std::string one_line(std::string_view text);

// How every line buildlock writes to stderr is written: for people ("buildlock: warning: ..."), or
// for scripts (`run --json`) as one JSON object per line,
//   {"schema_version": 1, "source": "buildlock", "level": "warning", "message": "..."}
// with `level` one of "error", "warning", "notice", "verbose" (docs/cli.md, "Messages"). A
// process-wide setting, not a field of Messages: errors are also reported by code that has no
// Messages of the run at hand (the exit path of every subcommand), and must follow it too.
enum class MessageFormat { text, json_lines };
void set_message_format(MessageFormat format);

struct Messages {
  bool quiet = false;   // --quiet: no waiting notices (errors and warnings still shown)
  bool verbose = false; // --verbose: explain every decision

  void error(const std::string& text) const;   // "buildlock: error: ..."
  void warning(const std::string& text) const; // "buildlock: warning: ..."
  void notice(const std::string& text) const;  // "buildlock: ...", unless quiet
  void explain(const std::string& text) const; // "buildlock: ...", only when verbose
};

} // namespace buildlock::core
