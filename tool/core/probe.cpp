#include "core/probe.h"

#include "core/lock_name.h"
#include "core/nesting.h"
#include "os/clock.h"
#include "os/file_lock.h"
#include "os/process_tree.h"

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

using namespace std::chrono_literals;

// How long an anchor without members is given for its creator to add the first one.
constexpr Seconds empty_group_grace = 1s;

std::pair<std::string, std::string> split_path(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {".", path};
  }
  return {path.substr(0, slash == 0 ? 1 : slash), path.substr(slash + 1)};
}

// The lock a lock file or holder file belongs to.
std::optional<std::string> lock_name_of_entry(const std::string& file_name) {
  if (auto name = lock_name_of_lock_file(file_name)) {
    return name;
  }
  if (auto holder = parse_holder_file_name(file_name)) {
    return holder->lock_name;
  }
  return std::nullopt;
}

// Judges a group's anchor that no kernel lock vouches for by its members (see the header).
void judge_anchor_by_members(LockInspection& anchor, const Observer& observer, Seconds stale_after,
                             bool kernel_locks, std::optional<std::int64_t> filesystem_now_ns,
                             Seconds anchor_age) {
  const auto [directory, file_name] = split_path(anchor.path);
  const auto name = lock_name_of_lock_file(file_name);
  if (!name) {
    return;
  }
  const GroupMembers members =
      live_group_members(directory, *name, observer, stale_after, kernel_locks, filesystem_now_ns);
  if (members.alive > 0) {
    anchor.verdict = Verdict{LockState::held,
                             "members-alive",
                             std::to_string(members.alive) +
                                 " member(s) of the group alive, e.g. " + members.example,
                             "members",
                             {}};
  } else if (members.files > 0 || anchor_age > empty_group_grace) {
    // Members that are all dead, or none for longer than it takes to add the first one.
    anchor.verdict =
        Verdict{LockState::stale, "group-empty", "no member of the group is alive", "members", {}};
  } else {
    anchor.verdict =
        Verdict{LockState::held, "group-forming", "a group whose first member is being added",
                "members", empty_group_grace - anchor_age};
  }
}

// remove_inspected() without a kernel lock: rename, recognise, then remove (or put back).
// Whether a process started under the inspected lock still runs (see CommandTree).
CommandTree command_tree_of(const LockInspection& inspection) {
  const auto owner = inspection.metadata->uid.value_or(inspection.entry.owner_uid);
  const auto names_this_lock = [&](std::string_view held_locks) {
    return held_locks_name(held_locks, inspection.entry.identity);
  };
  switch (os::find_process_by_environment(held_locks_variable, names_this_lock, owner)) {
  case os::ProcessSearch::found:
    return CommandTree::running;
  case os::ProcessSearch::none:
    return CommandTree::gone;
  case os::ProcessSearch::unreadable:
    break;
  }
  return CommandTree::unknown;
}

Result<bool> remove_by_rename(const LockInspection& inspection) {
  const auto [directory, file_name] = split_path(inspection.path);
  const std::string private_path = os::join_path(
      directory,
      temp_file_name(lock_name_of_entry(file_name).value_or("buildlock-break"), random_token()));
  auto moved = os::move_to_new_name(inspection.path, private_path);
  if (!moved || !*moved) {
    return moved;
  }
  // The one moved is what was judged only if nobody refreshed or replaced it since.
  bool same = false;
  if (auto now = os::lstat_entry(private_path); now && now->type == os::EntryType::regular &&
                                                now->identity == inspection.entry.identity &&
                                                now->mtime_ns == inspection.entry.mtime_ns) {
    if (auto fd = os::open_regular_file(private_path)) {
      bool truncated = false;
      auto bytes = os::read_prefix(*fd, max_metadata_bytes, truncated);
      same = bytes && truncated == inspection.metadata_truncated &&
             *bytes == inspection.metadata_bytes;
    }
  }
  if (same) {
    return os::remove_file(private_path);
  }
  // Put it back, unless a new lock took the name meanwhile: then it stays under the private name
  // (its holder notices the loss at its next heartbeat; `clean` removes it later).
  if (auto restored = os::link_new_name(private_path, inspection.path); restored && *restored) {
    (void)os::remove_file(private_path);
  }
  return false;
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
                                         bool details, bool kernel_locks) {
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

  Result<os::LockAttempt> attempt = os::LockAttempt::unsupported;
  if (kernel_locks) {
    attempt = os::try_lock(inspection.fd);
  }
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
  inspection.kernel_lock_excludes_reclaimers = inspection.beacon == Beacon::free &&
                                               inspection.metadata &&
                                               same_kernel(*inspection.metadata, observer);
  if (inspection.beacon == Beacon::free && inspection.metadata &&
      !inspection.metadata->kernel_lock) {
    // Its holder never took the kernel lock (--kernel-locks off): free proves nothing.
    inspection.beacon = Beacon::unsupported;
  }

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
  if (inspection.verdict.state == LockState::stale && inspection.beacon == Beacon::unsupported &&
      inspection.verdict.judged_by == "pid check") {
    // The holder's buildlock is gone, but without a kernel lock nothing else says whether the
    // command it ran is gone too (its kernel lock would have). Only now, since it reads every
    // process's environment.
    observation.tree = command_tree_of(inspection);
    inspection.verdict = judge(observation, observer, stale_after);
  }
  if (inspection.beacon == Beacon::unsupported && inspection.metadata &&
      inspection.metadata->mode != LockMode::exclusive &&
      lock_name_of_lock_file(split_path(path).second)) {
    judge_anchor_by_members(inspection, observer, stale_after, kernel_locks, filesystem_now_ns,
                            observation.age);
  }
  return inspection;
}

GroupMembers live_group_members(const std::string& directory, const std::string& name,
                                const Observer& observer, Seconds stale_after, bool kernel_locks,
                                std::optional<std::int64_t> filesystem_now_ns) {
  GroupMembers members;
  auto names = os::list_directory(directory);
  if (!names) {
    // Cannot tell: count as alive, which never removes anything.
    members.alive = 1;
    members.example = "unknown (" + names.error().message + ")";
    return members;
  }
  for (const std::string& entry : *names) {
    auto holder = parse_holder_file_name(entry);
    if (!holder || holder->lock_name != name || holder->kind == HolderFileKind::writer) {
      continue;
    }
    auto member = inspect_lock_file(os::join_path(directory, entry), observer, stale_after,
                                    filesystem_now_ns, true, kernel_locks);
    if (member && member->exists()) {
      ++members.files;
    }
    if (member && member->is_lock_file() && member->verdict.state == LockState::held) {
      if (members.alive++ == 0) {
        members.example = member->describe_holder() + ": " + member->verdict.explanation;
      }
    }
  }
  return members;
}

void read_metadata(LockInspection& inspection) {
  inspection.metadata.reset();
  inspection.metadata_problem.clear();
  inspection.metadata_bytes.clear();
  inspection.metadata_truncated = false;
  bool truncated = false;
  auto bytes = os::read_prefix(inspection.fd, max_metadata_bytes, truncated);
  if (!bytes) {
    inspection.metadata_problem = bytes.error().message;
  } else if (truncated) {
    inspection.metadata_bytes = *bytes;
    inspection.metadata_truncated = true;
    inspection.metadata_problem = "larger than " + std::to_string(max_metadata_bytes) + " bytes";
  } else {
    inspection.metadata_bytes = *bytes;
    auto parsed = parse_metadata(*bytes);
    if (parsed) {
      inspection.metadata = std::move(*parsed);
    } else {
      inspection.metadata_problem = parsed.error().message;
    }
  }
}

Result<bool> remove_inspected(const LockInspection& inspection) {
  // With kernel locks, only their holder may remove the file; without, only what is recognised
  // after moving it aside (see docs/protocol.md, "Reclaim").
  if (!inspection.fd) {
    return false;
  }
  switch (inspection.beacon) {
  case Beacon::free:
    if (inspection.kernel_lock_excludes_reclaimers) {
      return remove_if_still_inspected_file(inspection);
    }
    // Another host's file: its reclaimers there are not excluded by our kernel lock.
    return remove_by_rename(inspection);
  case Beacon::unsupported:
    return remove_by_rename(inspection);
  case Beacon::held:
    break;
  }
  return false;
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
