// `buildlock break`: remove one lock on an administrator's say-so. A stale lock is removed as
// `run` would reclaim it; a held one only with --force, and the holder is named in a warning.
#pragma once

#include "cli/lock_reports.h"

#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace buildlock::cli {

struct BreakOptions {
  JudgingOptions judging;
  bool force = false;
  bool json = false; // a JSON array on stdout: each file of the lock and what became of it
  std::string lock;
};

void add_break_command(CLI::App& app, BreakOptions& options);

// Returns the exit status: 0 when the lock is gone (or was not there), exit_lock_held when it is
// held and --force was not given.
int break_command(const BreakOptions& options);

} // namespace buildlock::cli
