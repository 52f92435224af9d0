#include "cli/common_options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

namespace buildlock::cli {

int exit_code_for(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::usage:
    return exit_usage;
  case ErrorKind::lock_directory:
    return exit_lock_directory;
  case ErrorKind::timeout:
    return exit_timeout;
  case ErrorKind::mode_conflict:
    return exit_mode_conflict;
  case ErrorKind::command_not_executable:
    return exit_not_executable;
  case ErrorKind::command_not_found:
    return exit_not_found;
  case ErrorKind::system:
    return exit_os_error;
  case ErrorKind::input:
    return exit_input;
  }
  return exit_software;
}

int report(const Error& error) {
  core::Messages{}.error(error.message);
  return exit_code_for(error.kind);
}

void CommonOptions::add_to(CLI::App& command) {
  command
      .add_option("--dir", dir,
                  "Lock directory (default: $BUILDLOCK_DIR, else $XDG_CACHE_HOME/buildlock, else "
                  "~/.cache/buildlock)")
      ->type_name("DIR");
  command
      .add_option("--kernel-locks", kernel_locks,
                  "Rely on kernel locks (flock): auto (where they work), on (required) or off "
                  "(judge by pid and heartbeat only); default: $BUILDLOCK_KERNEL_LOCKS, else auto")
      ->type_name("auto|on|off");
  auto* quiet_flag = command.add_flag("-q,--quiet", quiet, "Say only errors and warnings");
  command.add_flag("-v,--verbose", verbose, "Explain every decision (stale, reclaimed, waiting)")
      ->excludes(quiet_flag);
}

Result<core::KernelLockUse> CommonOptions::kernel_lock_use() const {
  if (kernel_locks) {
    return core::parse_kernel_lock_use(*kernel_locks, "--kernel-locks");
  }
  if (const char* text = std::getenv("BUILDLOCK_KERNEL_LOCKS"); text != nullptr && *text != '\0') {
    return core::parse_kernel_lock_use(text, "$BUILDLOCK_KERNEL_LOCKS");
  }
  return core::KernelLockUse::automatic;
}

Result<std::optional<core::Seconds>> seconds_option(const std::optional<std::string>& value,
                                                    const char* option_name, const char* variable,
                                                    std::optional<core::Seconds> fallback) {
  if (value) {
    auto parsed = core::parse_seconds(*value, option_name);
    if (!parsed) {
      return parsed.error();
    }
    return std::optional(*parsed);
  }
  if (const char* text = std::getenv(variable); text != nullptr && *text != '\0') {
    auto parsed = core::parse_seconds(text, std::string("$") + variable);
    if (!parsed) {
      return parsed.error();
    }
    return std::optional(*parsed);
  }
  return fallback;
}

Result<core::Seconds> stale_after_option(const std::optional<std::string>& value) {
  const char* variable = "BUILDLOCK_STALE_AFTER";
  auto stale_after = seconds_option(value, "--stale-after", variable, default_stale_after);
  if (!stale_after) {
    return stale_after.error();
  }
  if (**stale_after < min_stale_after) {
    // The text parsed as a number, so it is printable; it may still be long ("0.000...").
    const std::string text = value ? *value : std::string(std::getenv(variable));
    return Error{ErrorKind::usage,
                 std::string(value ? "--stale-after" : "$BUILDLOCK_STALE_AFTER") + ": `" +
                     text.substr(0, 40) + "` is less than the minimum of " +
                     core::format_duration(min_stale_after) +
                     " (holders refresh their locks every --stale-after / 4, at most every 50 ms)"};
  }
  return **stale_after;
}

} // namespace buildlock::cli
