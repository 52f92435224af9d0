#include "cli/break_command.h"

#include "core/forced_removal.h"
#include "core/lock_listing.h"
#include "core/lock_name.h"

#include <CLI/CLI.hpp>

namespace buildlock::cli {
namespace {

std::string why(const core::LockReport& report) {
  return report.explanation + " [" + report.reason + "]";
}

} // namespace

void add_break_command(CLI::App& app, BreakOptions& options) {
  CLI::App* command = app.add_subcommand(
      "break", "Remove the lock LOCK: at once when stale, when held only with --force");
  options.judging.add_to(*command);
  command->add_flag("-f,--force", options.force,
                    "Remove the lock even though its holder may be alive (it keeps running, "
                    "unprotected)");
  command->add_option("LOCK", options.lock, "The lock to remove")->required();
  command->footer("Exit status: 0 when the lock is gone (or did not exist); 2 usage, 74 lock "
                  "directory or entry unusable, 75 held and no --force.");
}

int break_command(const BreakOptions& options) {
  const core::Messages messages = options.judging.common.messages();
  if (auto valid = core::validate_lock_name(options.lock); !valid) {
    return report(valid.error());
  }
  auto context = survey_context(options.judging);
  if (!context) {
    return report(context.error());
  }
  if (auto exists = core::lock_directory_exists(context->directory); !exists) {
    return report(exists.error());
  }
  const core::DirectoryEntry entry{core::EntryKind::lock, options.lock,
                                   core::lock_file_name(options.lock)};
  core::EntrySurvey survey = core::survey_entry(*context, entry);
  const core::LockReport& lock = survey.report;
  const std::string quoted = "`" + options.lock + "`";

  switch (lock.state) {
  case core::EntryState::free:
    messages.notice("lock " + quoted + " is not held (no lock file): nothing to break");
    return 0;
  case core::EntryState::invalid:
    return report(
        Error{ErrorKind::lock_directory, "cannot break lock " + quoted + ": " + lock.explanation});
  case core::EntryState::held:
    if (!options.force) {
      messages.error("lock " + quoted + " is held by " + lock.holder + ": " + why(lock) +
                     "; use `buildlock break --force " + options.lock +
                     "` to remove it anyway (its holder keeps running, unprotected)");
      return exit_lock_held;
    }
    break;
  case core::EntryState::stale:
    break;
  }

  // Stale: the race-free removal `run` reclaims with. Held (--force): see forced_removal.h.
  auto removed = lock.state == core::EntryState::stale
                     ? core::remove_inspected(*survey.inspection)
                     : core::remove_inspected_by_force(*survey.inspection);
  if (!removed) {
    return report(std::move(removed.error()).with("cannot break lock " + quoted));
  }
  if (!*removed) {
    messages.notice("lock " + quoted +
                    " was released or replaced while being judged; nothing "
                    "removed (see `buildlock status " +
                    options.lock + "`)");
    return 0;
  }
  if (lock.state == core::EntryState::held) {
    messages.warning("broke lock " + quoted + " held by " + lock.holder + " (" + why(lock) +
                     "); that holder is no longer protected by it");
  } else {
    messages.notice("removed stale lock " + quoted + " of " + lock.holder + ": " + why(lock));
  }
  return 0;
}

} // namespace buildlock::cli
