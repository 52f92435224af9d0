#include "core/probe.h"

#include "os/clock.h"
#include "os/file_lock.h"

#include <chrono>

namespace buildlock::core {
namespace {

std::string join_command(const std::vector<std::string>& command) {
  std::string text;
  for (const auto& argument : command) {
    if (!text.empty()) {
      text += ' ';
    }
    text += argument;
    if (text.size() > 200) {
      text = text.substr(0, 200) + "...";
      break;
    }
  }
  return text;
}

} // namespace

Observer current_observer() {
  const auto& local = os::local_identity();
  return Observer{local.boot_id, local.pid_namespace, local.host,
                  std::chrono::duration_cast<Seconds>(os::uptime())};
}

std::string LockInspection::describe_holder() const {
  if (!metadata) {
    return "an unknown holder (metadata " + metadata_problem + ")";
  }
  std::string text = "pid " + std::to_string(metadata->pid) + " on host `" + metadata->host + "`";
  if (!metadata->command.empty()) {
    text += " (" + join_command(metadata->command) + ")";
  }
  if (auto acquired = os::parse_utc_timestamp_ns(metadata->acquired_at)) {
    // The holder's clock against ours: good enough for people, never used for decisions.
    text += ", held for " + format_duration(Seconds(double(os::wall_clock_ns() - *acquired) / 1e9));
  }
  return text;
}

Result<LockInspection> inspect_lock_file(const std::string& path, const Observer& observer,
                                         Seconds stale_after,
                                         std::optional<std::int64_t> filesystem_now_ns,
                                         bool details) {
  LockInspection inspection;
  inspection.path = path;
  auto entry = os::lstat_entry(path);
  if (!entry) {
    return entry.error();
  }
  inspection.entry = *entry;
  if (!inspection.exists() || !inspection.is_lock_file()) {
    // Never open what is not a regular file: a FIFO could block, a device could act.
    return inspection;
  }
  auto fd = os::open_regular_file_if_present(path);
  if (!fd) {
    return fd.error();
  }
  if (!*fd) {
    // Released between lstat and open. (Comparing inode numbers cannot tell this apart: ext4
    // hands a freed inode number to the very next file created, often the next holder's lock.)
    inspection.entry = os::EntryInfo{};
    return inspection;
  }
  inspection.fd = std::move(**fd);
  // Describe the file actually opened, in case the name was replaced after lstat.
  auto opened = os::fstat_entry(inspection.fd);
  if (!opened) {
    return opened.error();
  }
  inspection.entry = *opened;

  auto attempt = os::try_lock(inspection.fd);
  if (!attempt) {
    return attempt.error();
  }
  switch (*attempt) {
  case os::LockAttempt::acquired:
    inspection.beacon = Beacon::free;
    break;
  case os::LockAttempt::unsupported:
    inspection.beacon = Beacon::unsupported;
    break;
  case os::LockAttempt::busy:
  case os::LockAttempt::interrupted:
    inspection.beacon = Beacon::held;
    break;
  }

  if (!details && inspection.beacon == Beacon::held) {
    // A held kernel lock is "held" whatever the metadata says (judge()'s first rule).
    inspection.metadata_problem = "not read";
    inspection.verdict = judge(Observation{}, observer, stale_after);
    return inspection;
  }
  read_metadata(inspection);

  Observation observation;
  observation.beacon = inspection.beacon;
  observation.metadata = inspection.metadata ? &*inspection.metadata : nullptr;
  // A held kernel lock decides alone (judge() looks no further), so its pid is not probed:
  // `status` on a directory of busy locks would spend a quarter of its time reading /proc.
  if (inspection.beacon != Beacon::held && inspection.metadata &&
      same_pid_namespace(*inspection.metadata, observer)) {
    observation.pid = os::probe_pid(inspection.metadata->pid);
  }
  const std::int64_t now_ns = filesystem_now_ns.value_or(os::wall_clock_ns());
  observation.age = Seconds(double(now_ns - inspection.entry.mtime_ns) / 1e9);
  inspection.verdict = judge(observation, observer, stale_after);
  return inspection;
}

void read_metadata(LockInspection& inspection) {
  inspection.metadata.reset();
  inspection.metadata_problem.clear();
  bool truncated = false;
  auto bytes = os::read_prefix(inspection.fd, max_metadata_bytes, truncated);
  if (!bytes) {
    inspection.metadata_problem = bytes.error().message;
  } else if (truncated) {
    inspection.metadata_problem = "larger than " + std::to_string(max_metadata_bytes) + " bytes";
  } else {
    auto parsed = parse_metadata(*bytes);
    if (parsed) {
      inspection.metadata = std::move(*parsed);
    } else {
      inspection.metadata_problem = parsed.error().message;
    }
  }
}

Result<bool> remove_inspected(const LockInspection& inspection) {
  // Only the holder of the kernel lock may remove the file (see docs/protocol.md). Without
  // kernel locks there is no race-free removal here.
  if (!inspection.fd || inspection.beacon != Beacon::free) {
    return false;
  }
  return remove_if_still_inspected_file(inspection);
}

Result<bool> remove_if_still_inspected_file(const LockInspection& inspection) {
  auto current = os::lstat_entry(inspection.path);
  if (!current) {
    return current.error();
  }
  if (current->type != os::EntryType::regular ||
      !(current->identity == inspection.entry.identity)) {
    return false; // released and perhaps re-created meanwhile: not the file that was judged
  }
  return os::remove_file(inspection.path);
}

} // namespace buildlock::core
