#include "cli/break_command.h"

#include "cli/etcd_commands.h"
#include "cli/lock_reports.h"
#include "core/forced_removal.h"
#include "core/lock_directory.h"
#include "core/lock_listing.h"
#include "core/lock_name.h"
#include "etcd/location.h"

#include <CLI/CLI.hpp>

namespace buildlock::cli {
namespace {

// "pid 12 on host `vm` (make), held for 3s", preceded for a holder file by what it holds:
// "slot 2 holder pid 12 ...".
std::string who(const core::LockReport& report) {
  const std::string label = holder_label(report);
  return label.empty() ? report.holder : label + " " + report.holder;
}

std::string refusal(const std::string& quoted, const std::vector<const core::LockReport*>& live) {
  if (live.size() == 1) {
    return "lock " + quoted + " is held by " + who(*live.front()) + ": " + why(*live.front());
  }
  std::string text = "lock " + quoted + " has " + std::to_string(live.size()) + " live holders: ";
  for (std::size_t i = 0; i < live.size(); ++i) {
    text += (i == 0 ? "" : "; ") + who(*live[i]) + " (" + why(*live[i]) + ")";
  }
  return text;
}

// What the lock file's own messages call it: `lock `x``, or `shared lock `x`` for an anchor whose
// metadata names a mode (its holders are named by their own files).
std::string lock_subject(const core::LockReport& lock, const std::string& quoted) {
  if (lock.metadata && lock.metadata->mode != core::LockMode::exclusive) {
    return mode_label(lock) + " lock " + quoted;
  }
  return "lock " + quoted;
}

// The line that says what was removed: a notice for a stale entry, a warning for a held one.
void announce_removal(const core::Messages& messages, const core::LockReport& entry,
                      const std::string& quoted) {
  const bool held = entry.state == core::EntryState::held;
  const bool shared_anchor = entry.kind == core::EntryKind::lock && entry.metadata &&
                             entry.metadata->mode != core::LockMode::exclusive;
  if (entry.kind != core::EntryKind::lock) {
    const std::string file = holder_label(entry) + " file `" + entry.file_name + "`";
    if (held) {
      messages.warning("broke " + file + " of " + entry.holder + " (" + why(entry) +
                       "); that holder is no longer protected by it");
    } else {
      messages.notice("removed stale " + file + " of " + entry.holder + ": " + why(entry));
    }
  } else if (shared_anchor) {
    if (held) {
      messages.warning("broke " + lock_subject(entry, quoted) + " (" + why(entry) +
                       "); its holders are no longer protected by it");
    } else {
      messages.notice("removed stale " + lock_subject(entry, quoted) + ": " + why(entry));
    }
  } else if (held) {
    messages.warning("broke lock " + quoted + " held by " + entry.holder + " (" + why(entry) +
                     "); that holder is no longer protected by it");
  } else {
    messages.notice("removed stale lock " + quoted + " of " + entry.holder + ": " + why(entry));
  }
}

// The lock file first, then each holder file: the order `break` removes them in.
std::vector<const core::EntrySurvey*> files_of(const core::GroupSurvey& survey) {
  std::vector<const core::EntrySurvey*> files{&survey.lock};
  for (const core::EntrySurvey& holder : survey.holders) {
    files.push_back(&holder);
  }
  return files;
}

// What became of one file of the lock: the `action` field of `break --json`.
struct BreakOutcome {
  const core::LockReport* report;
  const char* action; // "removed", "broken", "refused", "changed" or "failed"
  std::string error;
};

// `break --json`: the objects of `status --json` for the files of the lock, each with its
// `action` and `error` (docs/managing-locks.md), in the order they were dealt with.
void print_outcomes(const std::vector<BreakOutcome>& outcomes) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const BreakOutcome& outcome : outcomes) {
    nlohmann::ordered_json object = report_json(*outcome.report);
    object["action"] = outcome.action;
    object["error"] = outcome.error.empty() ? nlohmann::ordered_json(nullptr)
                                            : nlohmann::ordered_json(outcome.error);
    array.push_back(std::move(object));
  }
  write_output(json_line(array));
}

} // namespace

void add_break_command(CLI::App& app, BreakOptions& options) {
  CLI::App* command = app.add_subcommand(
      "break", "Remove the lock LOCK and its holders' files: at once when stale, when held only "
               "with --force");
  options.judging.add_to(*command);
  command->add_flag("-f,--force", options.force,
                    "Remove the lock even though its holder may be alive (it keeps running, "
                    "unprotected)");
  command->add_flag("--json", options.json,
                    "Print a JSON array, one object per file of the lock and what became of it");
  command->add_option("LOCK", options.lock, "The lock to remove")->required();
  command->footer("Example: buildlock break toolchain\n"
                  "Exit status: 0 when the lock is gone (or did not exist); 2 usage, 70 internal "
                  "error, 71 system error, 74 lock directory or entry unusable, 75 held and no "
                  "--force.");
}

int break_command(const BreakOptions& options) {
  if (auto location = core::resolve_lock_directory(options.judging.common.dir);
      location && etcd::is_etcd_location(*location)) {
    if (options.json) {
      return report(Error{ErrorKind::usage, "break --json: not available for locks in etcd yet "
                                            "(`status --json` is)"});
    }
    return etcd_break(options, *location);
  }
  const core::Messages messages = options.judging.common.messages();
  if (auto valid = core::validate_lock_name(options.lock); !valid) {
    return report(valid.error());
  }
  auto context = survey_context(options.judging);
  if (!context) {
    return report(context.error());
  }
  auto entries = entries_for_named_locks(
      context->directory, messages,
      "only `" + core::lock_file_name(options.lock) +
          "` is judged; holder files of a shared or slotted lock are left alone");
  if (!entries) {
    return report(entries.error());
  }
  // The lock file and every holder file of a shared or slotted lock. Their inspections stay open
  // until the end, holding the kernel lock of each stale one for its race-free removal.
  const core::GroupSurvey survey =
      core::survey_group(*context, core::group_of(options.lock, *entries));
  const std::string quoted = "`" + options.lock + "`";
  std::vector<BreakOutcome> outcomes;
  const auto finish = [&](int status) {
    if (options.json) {
      print_outcomes(outcomes);
    }
    return status;
  };

  if (const core::LockReport* invalid = survey.first_invalid()) {
    // Not even the other files are touched: what is left would be a lock nobody can judge.
    Error error{ErrorKind::lock_directory,
                "cannot break lock " + quoted + ": " + invalid->explanation};
    outcomes.push_back({invalid, "failed", error.message});
    return finish(report(error));
  }
  if (survey.all_free()) {
    messages.notice("lock " + quoted + " is not held (no lock file): nothing to break");
    return finish(0);
  }
  const std::vector<const core::LockReport*> live = survey.live_holders();
  if (!live.empty() && !options.force) {
    messages.error(refusal(quoted, live) + "; use `buildlock break --force " + options.lock +
                   "` to remove it anyway (" +
                   (live.size() == 1 ? "its holder keeps" : "its holders keep") +
                   " running, unprotected)");
    // Every file that exists, held or stale: none of them was removed.
    for (const core::EntrySurvey* file : files_of(survey)) {
      if (file->report.state != core::EntryState::free) {
        outcomes.push_back({&file->report, "refused", {}});
      }
    }
    return finish(exit_lock_held);
  }

  // The lock file first: a newcomer then starts a lock of its own instead of joining the broken
  // one, and the holder files go after it.
  int status = 0;
  for (const core::EntrySurvey* file : files_of(survey)) {
    const core::LockReport& entry = file->report;
    if (entry.state == core::EntryState::free || !file->inspection) {
      continue; // no such file (any more)
    }
    // Stale: the race-free removal `run` reclaims with. Held (--force): see forced_removal.h.
    // A stale anchor is removed without counting the members again (this survey holds their
    // files' kernel locks, so it would count them alive): a member that joined since is still
    // waited for by every exclusive run (docs/protocol.md, "The exclusive creator counts the
    // members"), and `break` removes the group's files after it anyway.
    auto removed = entry.state == core::EntryState::stale
                       ? core::remove_inspected(*file->inspection)
                       : core::remove_inspected_by_force(*file->inspection);
    if (!removed) {
      Error error =
          std::move(removed.error())
              .with("cannot break lock " + quoted + ": removing `" + entry.file_name + "`");
      outcomes.push_back({&entry, "failed", error.message});
      status = report(error);
      continue;
    }
    if (!*removed) {
      messages.notice("`" + entry.file_name +
                      "` was released or replaced while being judged; nothing removed (see "
                      "`buildlock status " +
                      options.lock + "`)");
      outcomes.push_back({&entry, "changed", {}});
      continue;
    }
    announce_removal(messages, entry, quoted);
    outcomes.push_back({&entry, entry.state == core::EntryState::held ? "broken" : "removed", {}});
  }
  return finish(status);
}

} // namespace buildlock::cli
