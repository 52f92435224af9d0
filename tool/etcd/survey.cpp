#include "etcd/survey.h"

#include "etcd/holder_check.h"
#include "etcd/key_layout.h"
#include "etcd/kv.h"
#include "etcd/lease.h"
#include "os/clock.h"

#include <map>

namespace buildlock::etcd {
namespace {

core::EntryKind kind_of(const QueueEntry& entry, bool holds) {
  switch (mode_of(entry)) {
  case core::LockMode::shared:
    return core::EntryKind::shared_holder;
  case core::LockMode::slots:
    return core::EntryKind::slot_holder;
  case core::LockMode::exclusive:
    break;
  }
  return holds ? core::EntryKind::lock : core::EntryKind::writer;
}

core::LockReport report_of(const std::string& name, const QueueEntry& entry, bool holds, int slot) {
  core::LockReport report;
  report.kind = kind_of(entry, holds);
  report.name = name;
  report.file_name = lease_hex(entry.lease);
  report.path = entry.key;
  report.slot = report.kind == core::EntryKind::slot_holder && holds ? slot : 0;
  const core::Verdict verdict = judge_holder(entry);
  report.state =
      verdict.state == core::LockState::stale ? core::EntryState::stale : core::EntryState::held;
  report.reason = verdict.reason;
  report.explanation = (holds ? "" : "waiting; ") + verdict.explanation;
  report.judged_by = verdict.judged_by;
  report.metadata = entry.metadata;
  if (!entry.metadata) {
    report.metadata_problem = "the key's value is not buildlock metadata";
  } else if (auto acquired = os::parse_utc_timestamp_ns(entry.metadata->acquired_at)) {
    report.held_for = core::Seconds(double(os::wall_clock_ns() - *acquired) / 1e9);
  }
  report.holder = describe_holder(entry);
  return report;
}

EtcdLockSurvey survey_one(const std::string& prefix, const std::string& name,
                          const std::vector<QueueEntry>& entries) {
  EtcdLockSurvey survey;
  core::LockReport& lock = survey.lock;
  lock.kind = core::EntryKind::lock;
  lock.name = name;
  lock.file_name = name;
  lock.path = lock_key_prefix(prefix, name);
  lock.state = core::EntryState::free;
  lock.reason = core::reason_no_lock_file;
  lock.explanation = "no key: nobody holds or waits for it";
  int slot = 0;
  for (const QueueEntry& entry : entries) {
    const QueueDecision decision = decide(entries, entry.create_revision, mode_of(entry),
                                          entry.metadata ? entry.metadata->slots : 0);
    const bool holds = decision.state == QueueState::holds;
    slot += holds ? 1 : 0;
    KeyReport key{entry, holds, report_of(name, entry, holds, slot)};
    if (holds && (lock.state != core::EntryState::held)) {
      const std::string path = lock.path;
      lock = key.report;
      lock.kind = core::EntryKind::lock;
      lock.file_name = name;
      lock.path = path;
      lock.slot = 0;
    }
    survey.keys.push_back(std::move(key));
  }
  return survey;
}

} // namespace

Result<std::vector<EtcdLockSurvey>> survey_locks(Client& client, const std::string& prefix,
                                                 const std::vector<std::string>& names,
                                                 core::Seconds timeout) {
  auto range = range_prefix(client, all_locks_prefix(prefix), timeout);
  if (!range) {
    return range.error();
  }
  std::map<std::string, std::vector<QueueEntry>> by_name;
  for (QueueEntry& entry : queue_entries(range->kvs)) {
    if (const auto name = lock_name_of(prefix, entry.key)) {
      by_name[*name].push_back(std::move(entry));
    } // else not laid out as buildlock's keys: somebody else's
  }
  std::vector<EtcdLockSurvey> surveys;
  if (names.empty()) {
    for (auto& [name, entries] : by_name) {
      surveys.push_back(survey_one(prefix, name, entries));
    }
  } else {
    for (const std::string& name : names) {
      surveys.push_back(survey_one(prefix, name, by_name[name]));
    }
  }
  return surveys;
}

} // namespace buildlock::etcd
