// `buildlock status`: who holds which lock, and which locks are stale, and why.
#pragma once

#include "cli/lock_reports.h"

#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace buildlock::cli {

struct StatusOptions {
  JudgingOptions judging;
  bool json = false;
  std::vector<std::string> locks; // empty: every lock in the directory
};

void add_status_command(CLI::App& app, StatusOptions& options);

// Returns the exit status: 0 whenever the directory could be read, whatever its entries hold.
int status_command(const StatusOptions& options);

} // namespace buildlock::cli
