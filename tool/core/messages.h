// Everything buildlock tells people goes to stderr through here, so that stdout stays free for
// the command's own output and for machine-readable output (`status --json`).
#pragma once

#include <string>

namespace buildlock::core {

struct Messages {
  bool quiet = false;   // --quiet: no waiting notices (errors and warnings still shown)
  bool verbose = false; // --verbose: explain every decision

  void error(const std::string& text) const;   // "buildlock: error: ..."
  void warning(const std::string& text) const; // "buildlock: warning: ..."
  void notice(const std::string& text) const;  // "buildlock: ...", unless quiet
  void explain(const std::string& text) const; // "buildlock: ...", only when verbose
};

} // namespace buildlock::core
