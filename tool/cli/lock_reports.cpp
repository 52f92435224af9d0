#include "cli/lock_reports.h"

#include "core/lock_directory.h"
#include "core/lock_listing.h"
#include "core/messages.h"
#include "core/shortened.h"
#include "etcd/location.h"
#include "os/clock.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>

namespace buildlock::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr std::size_t max_command_column = 40;

// Durations in JSON: seconds with millisecond precision, so that "12.345" stays short.
json seconds_json(const std::optional<core::Seconds>& duration) {
  if (!duration) {
    return nullptr;
  }
  return std::round(duration->count() * 1000) / 1000;
}

json text_or_null(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

std::string dash_if_empty(const std::string& text) {
  return text.empty() ? "-" : text;
}

std::string command_column(const std::vector<std::string>& command) {
  std::string text = core::shortened_command(command, max_command_column);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?'; // one row per entry, whatever the arguments hold
    }
  }
  return text;
}

} // namespace

std::string mode_label(const core::LockReport& report) {
  if (!report.metadata) {
    return "-";
  }
  if (report.metadata->mode == core::LockMode::slots) {
    return "slots " + std::to_string(report.metadata->slots);
  }
  return std::string(core::mode_name(report.metadata->mode));
}

std::string why(const core::LockReport& report) {
  return report.explanation + " [" + report.reason + "]";
}

std::string holder_label(const core::LockReport& report) {
  switch (report.kind) {
  case core::EntryKind::shared_holder:
    return "shared holder";
  case core::EntryKind::slot_holder:
    return "slot " + std::to_string(report.slot) + " holder";
  case core::EntryKind::writer:
    return "waiting writer";
  case core::EntryKind::lock:
  case core::EntryKind::temp_file:
    break;
  }
  return "";
}

void JudgingOptions::add_to(CLI::App& command) {
  common.add_to(command);
  command
      .add_option("--stale-after", stale_after,
                  "Age after which a lock nobody can vouch for counts as stale, as for `run`; "
                  "default: $BUILDLOCK_STALE_AFTER, else 120")
      ->type_name("SECONDS");
}

Result<core::SurveyContext> survey_context(const JudgingOptions& options) {
  auto directory = core::resolve_lock_directory(options.common.dir);
  if (!directory) {
    return directory.error();
  }
  if (auto typo = etcd::mistyped_location(*directory)) {
    return Error{ErrorKind::usage, *typo};
  }
  auto stale_after = stale_after_option(options.stale_after);
  if (!stale_after) {
    return stale_after.error();
  }
  auto kernel_locks = options.common.kernel_lock_use();
  if (!kernel_locks) {
    return kernel_locks.error();
  }
  core::SurveyContext context;
  context.directory = std::move(*directory);
  context.kernel_locks = *kernel_locks != core::KernelLockUse::never;
  context.observer = core::current_observer();
  context.stale_after = *stale_after;
  context.filesystem_now_ns = core::read_filesystem_clock(context.directory);
  context.local_now_ns = os::wall_clock_ns();
  return context;
}

Result<std::vector<core::DirectoryEntry>> entries_for_named_locks(const std::string& directory,
                                                                  const core::Messages& messages,
                                                                  const std::string& consequence) {
  auto exists = core::lock_directory_exists(directory);
  if (!exists) {
    return exists.error();
  }
  if (!*exists) {
    return std::vector<core::DirectoryEntry>{};
  }
  auto listing = core::list_lock_directory(directory);
  if (!listing) {
    messages.warning(listing.error().message + ": " + consequence);
    return std::vector<core::DirectoryEntry>{};
  }
  return std::move(listing->entries);
}

json report_json(const core::LockReport& report) {
  const core::LockMetadata* metadata = report.metadata ? &*report.metadata : nullptr;
  json object;
  object["schema_version"] = report_schema_version;
  object["kind"] = core::to_string(report.kind);
  object["name"] = report.name;
  object["path"] = report.path;
  object["state"] = core::to_string(report.state);
  object["reason"] = report.reason;
  object["explanation"] = report.explanation;
  object["judged_by"] = text_or_null(report.judged_by);
  object["pid"] = metadata ? json(metadata->pid) : json(nullptr);
  object["host"] = metadata ? text_or_null(metadata->host) : json(nullptr);
  object["user"] = metadata ? text_or_null(metadata->user) : json(nullptr);
  object["uid"] = metadata && metadata->uid ? json(*metadata->uid) : json(nullptr);
  object["command"] = metadata ? json(metadata->command) : json(nullptr);
  object["acquired_at"] = metadata ? text_or_null(metadata->acquired_at) : json(nullptr);
  object["age_seconds"] = seconds_json(report.age);
  object["held_seconds"] = seconds_json(report.held_for);
  object["stale_in_seconds"] = seconds_json(report.stale_in);
  object["metadata_error"] = text_or_null(report.metadata_problem);
  // Added with shared and slotted locks (schema_version 1 still: fields are only added).
  object["mode"] = metadata ? json(std::string(core::mode_name(metadata->mode))) : json(nullptr);
  object["slots"] =
      metadata && metadata->mode == core::LockMode::slots ? json(metadata->slots) : json(nullptr);
  object["slot"] = report.kind == core::EntryKind::slot_holder ? json(report.slot) : json(nullptr);
  // Added for a holder that exited while processes it left keep its kernel lock (issue 25).
  json kept_by = json::array();
  for (const os::ProcessWithFile& keeper : report.kept_by) {
    kept_by.push_back({{"pid", keeper.pid}, {"command", keeper.command}});
  }
  object["kept_by"] = std::move(kept_by);
  return object;
}

std::string json_line(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::vector<std::string> holder_column_titles() {
  return {"MODE", "PID", "USER", "HOST", "HELD", "COMMAND", "WHY"};
}

std::vector<std::string> holder_columns(const core::LockReport& report) {
  std::vector<std::string> columns;
  const core::LockMetadata* metadata = report.metadata ? &*report.metadata : nullptr;
  columns.push_back(mode_label(report));
  columns.push_back(metadata ? std::to_string(metadata->pid) : "-");
  columns.push_back(metadata ? dash_if_empty(metadata->user) : "-");
  columns.push_back(metadata ? dash_if_empty(metadata->host) : "-");
  columns.push_back(report.held_for ? core::format_duration(*report.held_for) : "-");
  columns.push_back(metadata ? dash_if_empty(command_column(metadata->command)) : "-");
  std::string why = report.explanation + " [" + report.reason + "]";
  if (!report.metadata_problem.empty() && report.state != core::EntryState::invalid) {
    why += " (metadata " + report.metadata_problem + ")";
  }
  columns.push_back(std::move(why));
  return columns;
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  // Cells hold text from lock files that anyone may have written (host and user names): one row
  // per entry, and nothing that drives the terminal.
  std::vector<std::vector<std::string>> table;
  table.reserve(rows.size());
  for (const auto& row : rows) {
    auto& printable = table.emplace_back();
    for (const auto& cell : row) {
      printable.push_back(core::one_line(cell));
    }
  }
  std::vector<std::size_t> widths;
  for (const auto& row : table) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  std::string text;
  for (const auto& row : table) {
    std::string line;
    for (std::size_t column = 0; column < row.size(); ++column) {
      line += row[column];
      if (column + 1 < row.size()) {
        line.append(widths[column] - row[column].size() + 2, ' ');
      }
    }
    text += line + "\n";
  }
  return text;
}

void write_output(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

} // namespace buildlock::cli
