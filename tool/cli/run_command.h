// `buildlock run`: run a command while holding a lock.
#pragma once

#include "cli/common_options.h"

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace buildlock::cli {

struct RunOptions {
  CommonOptions common;
  std::optional<std::string> timeout;
  std::optional<std::string> stale_after;
  std::optional<std::string> kill_after;
  std::string lock;
  // Split COMMAND into several commands of these lengths, run in order under one hold.
  std::vector<std::size_t> sequence;
  bool die_with_parent = false;
  bool stop_if_lost = false;         // the default; accepted so that older scripts still work
  bool keep_running_if_lost = false; // opt out of stopping the command when the lock is lost
  bool shared = false;
  bool json = false; // buildlock's own messages as JSON lines on stderr
  std::optional<int> slots;
  std::optional<std::string> trace; // --trace FILE; else $BUILDLOCK_TRACE
  std::vector<std::string> command; // everything after `--`
};

void add_run_command(CLI::App& app, RunOptions& options);

// Returns the exit status, or does not return when buildlock must die by the command's signal.
int run_command(const RunOptions& options);

} // namespace buildlock::cli
