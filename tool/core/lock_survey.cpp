#include "core/lock_survey.h"

#include "os/clock.h"
#include "os/filesystem.h"

#include <algorithm>

namespace buildlock::core {
namespace {

Seconds non_negative_seconds_between(std::int64_t earlier_ns, std::int64_t later_ns) {
  // Clocks of different machines may disagree a little; a duration shown to people or scripts is
  // never negative.
  return Seconds(double(std::max<std::int64_t>(later_ns - earlier_ns, 0)) / 1e9);
}

LockReport invalid_report(LockReport report, const char* reason, std::string explanation) {
  report.state = EntryState::invalid;
  report.reason = reason;
  report.explanation = std::move(explanation);
  return report;
}

} // namespace

const char* to_string(EntryState state) {
  switch (state) {
  case EntryState::held:
    return "held";
  case EntryState::stale:
    return "stale";
  case EntryState::free:
    return "free";
  case EntryState::invalid:
    return "invalid";
  }
  return "invalid";
}

LockReport report_for(const SurveyContext& context, const DirectoryEntry& entry,
                      const std::string& path, const Result<LockInspection>& inspected) {
  LockReport report;
  report.kind = entry.kind;
  report.name = entry.lock_name;
  report.file_name = entry.file_name;
  report.slot = entry.slot;
  report.path = path;
  if (!inspected) {
    return invalid_report(std::move(report), reason_unreadable, inspected.error().message);
  }
  const LockInspection& inspection = inspected.value();
  if (!inspection.exists()) {
    report.state = EntryState::free;
    report.reason = reason_no_lock_file;
    report.explanation = "nobody holds it (there is no lock file)";
    return report;
  }
  if (!inspection.is_lock_file()) {
    return invalid_report(std::move(report), reason_not_regular_file,
                          "`" + entry.file_name + "` is " + os::describe(inspection.entry.type) +
                              ", not a lock file; buildlock never opens or removes it");
  }
  const Verdict& verdict = inspection.verdict;
  report.state = verdict.state == LockState::held ? EntryState::held : EntryState::stale;
  report.reason = verdict.reason;
  report.explanation = verdict.explanation;
  report.judged_by = verdict.judged_by;
  report.stale_in = verdict.stale_in;
  report.metadata = inspection.metadata;
  report.metadata_problem = inspection.metadata_problem;
  report.holder = inspection.describe_holder();
  report.kept_by = inspection.kept_by; // and the explanation says who they are
  if (entry.kind == EntryKind::lock && report.state == EntryState::stale && report.metadata &&
      report.metadata->mode != LockMode::exclusive && verdict.judged_by == "kernel lock") {
    // The anchor of a shared or slotted lock is held by every member; its metadata names only the
    // member that created it. Free, it is an empty group, whoever created it.
    report.explanation = "no member holds it any more (an empty group; it was created by pid " +
                         std::to_string(report.metadata->pid) + ")";
  }
  report.age = non_negative_seconds_between(
      inspection.entry.mtime_ns, context.filesystem_now_ns.value_or(context.local_now_ns));
  if (report.metadata) {
    if (auto acquired_ns = os::parse_utc_timestamp_ns(report.metadata->acquired_at)) {
      report.held_for = non_negative_seconds_between(*acquired_ns, context.local_now_ns);
    }
  }
  return report;
}

EntrySurvey survey_entry(const SurveyContext& context, const DirectoryEntry& entry) {
  const std::string path = os::join_path(context.directory, entry.file_name);
  auto inspected = inspect_lock_file(path, context.observer, context.stale_after,
                                     context.filesystem_now_ns, true, context.kernel_locks);
  EntrySurvey survey{report_for(context, entry, path, inspected), std::nullopt};
  if (inspected) {
    survey.inspection = std::move(*inspected);
  }
  return survey;
}

std::vector<const LockReport*> GroupSurvey::live_holders() const {
  std::vector<const LockReport*> live;
  for (const EntrySurvey& holder : holders) {
    if (holder.report.state == EntryState::held) {
      live.push_back(&holder.report);
    }
  }
  if (live.empty() && lock.report.state == EntryState::held) {
    live.push_back(&lock.report);
  }
  return live;
}

const LockReport* GroupSurvey::first_invalid() const {
  if (lock.report.state == EntryState::invalid) {
    return &lock.report;
  }
  for (const EntrySurvey& holder : holders) {
    if (holder.report.state == EntryState::invalid) {
      return &holder.report;
    }
  }
  return nullptr;
}

bool GroupSurvey::all_free() const {
  if (lock.report.state != EntryState::free) {
    return false;
  }
  return std::all_of(holders.begin(), holders.end(), [](const EntrySurvey& holder) {
    return holder.report.state == EntryState::free;
  });
}

GroupSurvey survey_group(const SurveyContext& context, const LockGroup& group) {
  GroupSurvey survey{survey_entry(context, group.lock), {}};
  survey.holders.reserve(group.holders.size());
  for (const DirectoryEntry& holder : group.holders) {
    survey.holders.push_back(survey_entry(context, holder));
  }
  return survey;
}

} // namespace buildlock::core
