#include "etcd/holder_check.h"

#include "etcd/lease.h"
#include "os/clock.h"
#include "os/process_identity.h"

namespace buildlock::etcd {
namespace {

core::CommandTree command_tree_of(const QueueEntry& entry) {
  switch (os::find_marked_process(command_mark(entry.lease), entry.metadata->uid.value_or(-1))) {
  case os::ProcessSearch::found:
    return core::CommandTree::running;
  case os::ProcessSearch::none:
    return core::CommandTree::gone;
  case os::ProcessSearch::unreadable:
    break;
  }
  return core::CommandTree::unknown;
}

} // namespace

bool names_lease(std::string_view held_leases, std::int64_t lease) {
  const std::string hex = lease_hex(lease);
  while (!held_leases.empty()) {
    const auto comma = held_leases.find(',');
    if (held_leases.substr(0, comma) == hex) {
      return true;
    }
    held_leases =
        comma == std::string_view::npos ? std::string_view{} : held_leases.substr(comma + 1);
  }
  return false;
}

std::string lease_mark_name(std::int64_t lease) {
  return "buildlock-etcd-lease-" + lease_hex(lease);
}

os::ProcessMark command_mark(std::int64_t lease) {
  return os::ProcessMark{held_leases_variable,
                         [lease](std::string_view value) { return names_lease(value, lease); },
                         lease_mark_name(lease)};
}

std::vector<QueueEntry> queue_entries(const std::vector<KeyValue>& kvs) {
  std::vector<QueueEntry> entries;
  for (const KeyValue& kv : kvs) {
    QueueEntry entry{kv.key, kv.create_revision, kv.lease, std::nullopt};
    if (auto parsed = core::parse_metadata(kv.value)) {
      entry.metadata = std::move(*parsed);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string held_leases_value(const char* inherited, std::int64_t lease) {
  std::string value = inherited != nullptr ? inherited : "";
  return value + (value.empty() ? "" : ",") + lease_hex(lease);
}

core::Verdict judge_holder(const QueueEntry& entry) {
  const os::LocalIdentity& self = os::local_identity();
  const core::Observer observer{self.boot_id, self.pid_namespace, self.host,
                                std::chrono::duration_cast<core::Seconds>(os::uptime())};
  core::Observation seen;
  seen.beacon = core::Beacon::unsupported; // no kernel lock in etcd
  seen.metadata = entry.metadata ? &*entry.metadata : nullptr;
  // The lease, not an age, decides for everyone we cannot check: age 0 keeps the age rule from
  // ever calling such a holder stale.
  seen.age = core::Seconds{0};
  if (entry.metadata && core::same_pid_namespace(*entry.metadata, observer)) {
    seen.pid = os::probe_pid(entry.metadata->pid);
    if (seen.pid.state != os::PidState::alive ||
        (entry.metadata->start_time && seen.pid.start_time &&
         *entry.metadata->start_time != *seen.pid.start_time)) {
      seen.tree = command_tree_of(entry);
    }
  }
  core::Verdict verdict = core::judge(seen, observer, core::Seconds{1e9});
  if (verdict.judged_by == "heartbeat") {
    verdict.judged_by = "lease";
    verdict.explanation += " (its etcd lease is renewed)";
    verdict.stale_in.reset();
  }
  return verdict;
}

std::string describe_holder(const QueueEntry& entry) {
  if (!entry.metadata) {
    return "an unknown holder (lease " + lease_hex(entry.lease) + ", metadata unusable)";
  }
  std::string text =
      "pid " + std::to_string(entry.metadata->pid) + " on host `" + entry.metadata->host + "`";
  std::string command;
  for (const std::string& word : entry.metadata->command) {
    command += (command.empty() ? "" : " ") + word;
  }
  if (!command.empty()) {
    text += " (" + command.substr(0, 200) + ")";
  }
  return text;
}

} // namespace buildlock::etcd
