#include "cli/status_command.h"

#include "core/lock_listing.h"
#include "core/lock_name.h"

#include <CLI/CLI.hpp>

namespace buildlock::cli {
namespace {

// The entries to report: the named locks in the order given, else every lock in the directory.
// Temporary files are not locks: `clean` deals with the ones left behind.
Result<std::vector<core::DirectoryEntry>> entries_to_report(const StatusOptions& options,
                                                            const std::string& directory) {
  std::vector<core::DirectoryEntry> entries;
  if (!options.locks.empty()) {
    if (auto exists = core::lock_directory_exists(directory); !exists) {
      return exists.error();
    }
    for (const std::string& name : options.locks) {
      entries.push_back({core::EntryKind::lock, name, core::lock_file_name(name)});
    }
    return entries;
  }
  auto listing = core::list_lock_directory(directory);
  if (!listing) {
    return listing.error();
  }
  for (auto& entry : listing->entries) {
    if (entry.kind == core::EntryKind::lock) {
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

} // namespace

void add_status_command(CLI::App& app, StatusOptions& options) {
  CLI::App* status = app.add_subcommand(
      "status", "Show every lock (or the named ones): held, stale or free, by whom and why");
  options.judging.add_to(*status);
  status->add_flag("--json", options.json,
                   "Print a JSON array, one object per lock (schema: docs/managing-locks.md)");
  status->add_option("LOCK", options.locks, "Only these locks (a lock with no file is `free`)");
  status->footer("Exit status: 0 when the lock directory could be read (whatever the locks' "
                 "states); 2 usage, 74 lock directory unreadable.");
}

int status_command(const StatusOptions& options) {
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
  auto entries = entries_to_report(options, context->directory);
  if (!entries) {
    return report(entries.error());
  }

  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  std::vector<std::vector<std::string>> rows;
  if (!options.json) {
    rows.push_back({"LOCK", "STATE"});
    for (auto& title : holder_column_titles()) {
      rows.front().push_back(std::move(title));
    }
  }
  for (const core::DirectoryEntry& entry : *entries) {
    // One entry at a time: its inspection (an open file) ends before the next one starts.
    const core::LockReport report = core::survey_entry(*context, entry).report;
    if (options.json) {
      array.push_back(report_json(report));
      continue;
    }
    std::vector<std::string> row{report.name, core::to_string(report.state)};
    for (auto& column : holder_columns(report)) {
      row.push_back(std::move(column));
    }
    rows.push_back(std::move(row));
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
