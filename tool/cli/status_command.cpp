#include "cli/status_command.h"

#include "cli/etcd_commands.h"
#include "core/lock_directory.h"
#include "core/lock_listing.h"
#include "core/lock_name.h"
#include "etcd/location.h"

#include <CLI/CLI.hpp>

namespace buildlock::cli {
namespace {

// The locks to report with their holder files: the named locks in the order given, else every
// lock in the directory. Temporary files are not locks: `clean` deals with the ones left behind.
Result<std::vector<core::LockGroup>> locks_to_report(const StatusOptions& options,
                                                     const std::string& directory,
                                                     const core::Messages& messages) {
  if (options.locks.empty()) {
    auto listing = core::list_lock_directory(directory);
    if (!listing) {
      return listing.error();
    }
    return core::group_by_lock(listing->entries);
  }
  auto entries = entries_for_named_locks(directory, messages,
                                         "holder files of shared and slotted locks are not shown");
  if (!entries) {
    return entries.error();
  }
  std::vector<core::LockGroup> groups;
  for (const std::string& name : options.locks) {
    groups.push_back(core::group_of(name, *entries));
  }
  return groups;
}

// One entry at a time: its inspection (an open file) ends before the next one starts.
core::LockReport survey_report(const core::SurveyContext& context,
                               const core::DirectoryEntry& entry) {
  return core::survey_entry(context, entry).report;
}

// A holder file's row sits under its lock's, named by what its file name adds: `+slot.2`.
std::string holder_row_name(const core::LockReport& report) {
  return "  " + report.file_name.substr(core::lock_file_name(report.name).size());
}

} // namespace

void add_status_command(CLI::App& app, StatusOptions& options) {
  CLI::App* status = app.add_subcommand(
      "status",
      "Show every lock (or the named ones) and each of its holders: held, stale or free, by whom "
      "and why");
  options.judging.add_to(*status);
  status->add_flag("--json", options.json,
                   "Print a JSON array, one object per lock, its holders inside (schema: "
                   "docs/managing-locks.md)");
  status->add_option("LOCK", options.locks, "Only these locks (a lock with no file is `free`)");
  status->footer("Example: buildlock status --json toolchain\n"
                 "Exit status: 0 when the lock directory could be read (whatever the locks' "
                 "states); 2 usage, 70 internal error, 71 system error, 74 lock directory "
                 "unreadable.");
}

int status_command(const StatusOptions& options) {
  if (auto location = core::resolve_lock_directory(options.judging.common.dir);
      location && etcd::is_etcd_location(*location)) {
    return etcd_status(options, *location);
  }
  const core::Messages messages = options.judging.common.messages();
  for (const std::string& name : options.locks) {
    if (auto valid = core::validate_lock_name(name); !valid) {
      return report(valid.error());
    }
  }
  auto context = survey_context(options.judging);
  if (!context) {
    return report(context.error());
  }
  auto groups = locks_to_report(options, context->directory, messages);
  if (!groups) {
    return report(groups.error());
  }

  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  std::vector<std::vector<std::string>> rows;
  if (!options.json) {
    rows.push_back({"LOCK", "STATE"});
    for (auto& title : holder_column_titles()) {
      rows.front().push_back(std::move(title));
    }
  }
  auto add_row = [&rows](std::string label, const core::LockReport& report) {
    // A writer's file is alive while it queues for the readers to leave: it holds nothing yet,
    // and a person reading "held" would look for the wrong culprit. (JSON keeps the file's state,
    // `held`, with `kind` "writer".)
    const bool queued_writer =
        report.kind == core::EntryKind::writer && report.state == core::EntryState::held;
    std::vector<std::string> row{std::move(label),
                                 queued_writer ? "waiting" : core::to_string(report.state)};
    for (auto& column : holder_columns(report)) {
      row.push_back(std::move(column));
    }
    rows.push_back(std::move(row));
  };
  for (const core::LockGroup& group : *groups) {
    const core::LockReport lock = survey_report(*context, group.lock);
    if (options.json) {
      nlohmann::ordered_json object = report_json(lock);
      object["holders"] = nlohmann::ordered_json::array();
      for (const core::DirectoryEntry& holder : group.holders) {
        object["holders"].push_back(report_json(survey_report(*context, holder)));
      }
      array.push_back(std::move(object));
      continue;
    }
    add_row(lock.name, lock);
    for (const core::DirectoryEntry& holder : group.holders) {
      const core::LockReport report = survey_report(*context, holder);
      add_row(holder_row_name(report), report);
    }
  }

  if (options.json) {
    write_output(json_line(array));
  } else if (rows.size() > 1) {
    write_output(format_table(rows));
  } else if (options.locks.empty()) {
    messages.notice("no locks in `" + context->directory + "`");
  }
  return 0;
}

} // namespace buildlock::cli
