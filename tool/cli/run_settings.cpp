#include "cli/run_settings.h"

#include "core/lock_directory.h"
#include "core/lock_name.h"
#include "etcd/location.h"

#include <algorithm>
#include <numeric>

namespace buildlock::cli {
namespace {

Result<std::vector<std::vector<std::string>>> split_commands(const RunOptions& options) {
  if (options.command.empty()) {
    return Error{ErrorKind::usage, "missing COMMAND: use `buildlock run LOCK -- COMMAND [ARG...]`"};
  }
  if (options.sequence.empty()) {
    return std::vector<std::vector<std::string>>{options.command};
  }
  const std::size_t total =
      std::accumulate(options.sequence.begin(), options.sequence.end(), std::size_t{0});
  if (total != options.command.size() ||
      std::find(options.sequence.begin(), options.sequence.end(), 0) != options.sequence.end()) {
    return Error{ErrorKind::usage, "--sequence lengths must be positive and add up to the " +
                                       std::to_string(options.command.size()) +
                                       " words after `--`"};
  }
  std::vector<std::vector<std::string>> commands;
  auto word = options.command.begin();
  for (std::size_t length : options.sequence) {
    commands.emplace_back(word, word + static_cast<std::ptrdiff_t>(length));
    word += static_cast<std::ptrdiff_t>(length);
  }
  return commands;
}

} // namespace

Result<RunSettings> settings_from(const RunOptions& options) {
  if (auto valid = core::validate_lock_name(options.lock); !valid) {
    return valid.error();
  }
  RunSettings settings;
  if (options.slots) {
    if (*options.slots < 1 || *options.slots > core::max_slots) {
      return Error{ErrorKind::usage, "--slots must be from 1 to " +
                                         std::to_string(core::max_slots) + ", not " +
                                         std::to_string(*options.slots)};
    }
    settings.mode = core::LockMode::slots;
    settings.slots = *options.slots;
  } else if (options.shared) {
    settings.mode = core::LockMode::shared;
  }
  auto commands = split_commands(options);
  if (!commands) {
    return commands.error();
  }
  settings.commands = std::move(*commands);
  auto directory = core::resolve_lock_directory(options.common.dir);
  if (!directory) {
    return directory.error();
  }
  if (auto typo = etcd::mistyped_location(*directory)) {
    return Error{ErrorKind::usage, *typo};
  }
  settings.directory = std::move(*directory);
  auto timeout = seconds_option(options.timeout, "--timeout", "BUILDLOCK_TIMEOUT", std::nullopt);
  if (!timeout) {
    return timeout.error();
  }
  settings.timeout = *timeout;
  auto stale_after = stale_after_option(options.stale_after);
  if (!stale_after) {
    return stale_after.error();
  }
  settings.stale_after = *stale_after;
  auto kill_after = seconds_option(options.kill_after, "--kill-after", "BUILDLOCK_KILL_AFTER",
                                   default_kill_after);
  if (!kill_after) {
    return kill_after.error();
  }
  settings.kill_after = **kill_after;
  auto kernel_locks = options.common.kernel_lock_use();
  if (!kernel_locks) {
    return kernel_locks.error();
  }
  settings.kernel_locks = *kernel_locks;
  return settings;
}

} // namespace buildlock::cli
