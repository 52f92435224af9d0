// What every subcommand shares: the lock directory and duration options with their environment
// defaults, the message level, and the one table from errors to exit statuses.
#pragma once

#include "core/duration.h"
#include "core/kernel_lock_use.h"
#include "core/messages.h"
#include "os/result.h"

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace buildlock::cli {

// Exit statuses of buildlock itself (a command's own status passes through unchanged).
// Documented in docs/cli.md; sysexits.h values where one fits.
enum ExitCode : int {
  exit_usage = 2,            // bad command line or environment variable
  exit_mode_conflict = 65,   // the lock is held in another mode or with another --slots count
  exit_input = 66,           // `report`: a trace file cannot be read or is not a trace
  exit_software = 70,        // internal error (a bug)
  exit_os_error = 71,        // the OS refused something unexpected
  exit_lock_directory = 74,  // lock directory or an entry in it unusable
  exit_timeout = 75,         // --timeout expired; the command was not run
  exit_lock_lost = 76,       // the lock was taken away while the command ran
  exit_lock_held = 75,       // `break` without --force: the lock is held (try later, as for 75)
  exit_not_executable = 126, // the command exists but cannot be executed
  exit_not_found = 127,      // the command was not found
};

// --stale-after when neither the option nor $BUILDLOCK_STALE_AFTER is given (every subcommand
// must judge locks alike).
inline constexpr core::Seconds default_stale_after{120};
// The shortest --stale-after: a holder refreshes its lock every stale-after / 4, but never more
// often than every 50 ms, so below this a live holder's heartbeat could not stay inside the
// limit with the 4x margin the age rule relies on (and 0 would make every such lock stale).
inline constexpr core::Seconds min_stale_after{0.2};
// --kill-after when neither the option nor $BUILDLOCK_KILL_AFTER is given.
inline constexpr core::Seconds default_kill_after{5};

int exit_code_for(ErrorKind kind);

// Prints "buildlock: error: <message>" and returns the exit status for it.
int report(const Error& error);

// Options about where locks are and how to talk, shared by subcommands.
struct CommonOptions {
  std::optional<std::string> dir;
  std::optional<std::string> kernel_locks;
  bool quiet = false;
  bool verbose = false;

  void add_to(CLI::App& command);
  core::Messages messages() const { return {quiet, verbose}; }
  // --kernel-locks if given, else $BUILDLOCK_KERNEL_LOCKS if set and non-empty, else auto.
  Result<core::KernelLockUse> kernel_lock_use() const;
};

// --NAME value if given, else $VARIABLE if set and non-empty, else `fallback`.
Result<std::optional<core::Seconds>> seconds_option(const std::optional<std::string>& value,
                                                    const char* option_name, const char* variable,
                                                    std::optional<core::Seconds> fallback);

// --stale-after if given, else $BUILDLOCK_STALE_AFTER, else the default; at least
// min_stale_after (a usage error otherwise). Every subcommand that judges locks takes it.
Result<core::Seconds> stale_after_option(const std::optional<std::string>& value);

} // namespace buildlock::cli
