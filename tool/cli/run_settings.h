// What `buildlock run`'s options and environment mean once checked: the lock directory (or etcd
// location), the mode, the time limits and the command(s). Every usage error of `run` that can be
// found before anything is touched is found here, so that a bad invocation leaves no trace.
#pragma once

#include "cli/common_options.h"
#include "cli/run_command.h"
#include "core/kernel_lock_use.h"
#include "core/metadata.h"
#include "os/result.h"

#include <optional>
#include <string>
#include <vector>

namespace buildlock::cli {

struct RunSettings {
  std::string directory;
  core::LockMode mode = core::LockMode::exclusive;
  int slots = 0;
  core::KernelLockUse kernel_locks = core::KernelLockUse::automatic;
  std::optional<core::Seconds> timeout;
  core::Seconds stale_after = default_stale_after;
  core::Seconds kill_after = default_kill_after;
  std::vector<std::vector<std::string>> commands;
};

Result<RunSettings> settings_from(const RunOptions& options);

} // namespace buildlock::cli
