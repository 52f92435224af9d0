#include "cli/clean_command.h"

#include "cli/etcd_commands.h"
#include "core/group_end.h"
#include "core/lock_directory.h"
#include "core/lock_listing.h"
#include "etcd/location.h"

#include <CLI/CLI.hpp>

namespace buildlock::cli {
namespace {

// What happened to one stale entry: the `action` field of `clean --json`.
enum class Action { removed, would_remove, failed };

const char* action_code(Action action) {
  switch (action) {
  case Action::removed:
    return "removed";
  case Action::would_remove:
    return "would-remove";
  case Action::failed:
    return "failed";
  }
  return "failed";
}

const char* action_title(Action action) {
  switch (action) {
  case Action::removed:
    return "removed";
  case Action::would_remove:
    return "would remove";
  case Action::failed:
    return "FAILED";
  }
  return "FAILED";
}

struct Outcome {
  core::LockReport report;
  Action action = Action::removed;
  std::string error;
};

} // namespace

void add_clean_command(CLI::App& app, CleanOptions& options) {
  CLI::App* clean = app.add_subcommand(
      "clean",
      "Remove every stale lock and left-over temporary file; held locks are never touched");
  options.judging.add_to(*clean);
  clean->add_flag("-n,--dry-run", options.dry_run, "Only list what would be removed");
  clean->add_flag("--json", options.json,
                  "Print a JSON array, one object per entry removed (or that would be)");
  clean->footer("Example: buildlock clean --dry-run\n"
                "Exit status: 0 when every stale entry was removed; 2 usage, 70 internal error, 71 "
                "system error, 74 lock directory unreadable or an entry could not be removed.");
}

int clean_command(const CleanOptions& options) {
  if (auto location = core::resolve_lock_directory(options.judging.common.dir);
      location && etcd::is_etcd_location(*location)) {
    return etcd_clean(options, *location);
  }
  const core::Messages messages = options.judging.common.messages();
  auto context = survey_context(options.judging);
  if (!context) {
    return report(context.error());
  }
  auto listing = core::list_lock_directory(context->directory);
  if (!listing) {
    return report(listing.error());
  }

  std::vector<Outcome> outcomes;
  int status = 0;
  for (const core::DirectoryEntry& entry : listing->entries) {
    core::EntrySurvey survey = core::survey_entry(*context, entry);
    core::LockReport& report = survey.report;
    if (report.state != core::EntryState::stale || !survey.inspection) {
      if (report.state != core::EntryState::free) {
        messages.explain("keeping `" + entry.file_name + "`: " + report.explanation + " [" +
                         report.reason + "]");
      }
      continue;
    }
    if (options.dry_run) {
      outcomes.push_back({std::move(report), Action::would_remove, {}});
      continue;
    }
    // The same race-free removal as `run` uses to reclaim: only while holding the file's kernel
    // lock, and only if the name still points at the file judged stale; a group's anchor like
    // its last member would, counting the members again.
    auto removed = core::remove_judged_stale(*survey.inspection, context->observer,
                                             context->stale_after, context->kernel_locks);
    if (!removed) {
      messages.error("cannot remove stale `" + report.path + "`: " + removed.error().message);
      status = exit_code_for(removed.error().kind);
      outcomes.push_back({std::move(report), Action::failed, removed.error().message});
    } else if (*removed) {
      outcomes.push_back({std::move(report), Action::removed, {}});
    } else {
      messages.explain("`" + entry.file_name + "` changed while being judged; left alone");
    }
  }

  if (options.json) {
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    for (const Outcome& outcome : outcomes) {
      nlohmann::ordered_json object = report_json(outcome.report);
      object["action"] = action_code(outcome.action);
      object["error"] = outcome.error.empty() ? nlohmann::ordered_json(nullptr)
                                              : nlohmann::ordered_json(outcome.error);
      array.push_back(std::move(object));
    }
    write_output(json_line(array));
  } else if (!outcomes.empty()) {
    std::vector<std::vector<std::string>> rows{{"ACTION", "ENTRY"}};
    for (auto& title : holder_column_titles()) {
      rows.front().push_back(std::move(title));
    }
    for (const Outcome& outcome : outcomes) {
      std::vector<std::string> row{action_title(outcome.action), outcome.report.file_name};
      for (auto& column : holder_columns(outcome.report)) {
        row.push_back(std::move(column));
      }
      rows.push_back(std::move(row));
    }
    write_output(format_table(rows));
  } else {
    messages.notice("nothing to clean in `" + context->directory + "`");
  }
  return status;
}

} // namespace buildlock::cli
