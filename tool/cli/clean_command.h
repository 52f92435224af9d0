// `buildlock clean`: remove every stale lock and every temporary file left behind, judged and
// removed exactly as `run` reclaims an orphan; a held lock is never touched.
#pragma once

#include "cli/lock_reports.h"

namespace CLI {
class App;
} // namespace CLI

namespace buildlock::cli {

struct CleanOptions {
  JudgingOptions judging;
  bool dry_run = false;
  bool json = false;
};

void add_clean_command(CLI::App& app, CleanOptions& options);

// Returns the exit status: 0 when every stale entry was removed (or there was none).
int clean_command(const CleanOptions& options);

} // namespace buildlock::cli
