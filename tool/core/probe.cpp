#include "core/probe.h"

#include "core/claimed_removal.h"
#include "core/command_mark.h"
#include "core/kept_lock.h"
#include "core/lock_name.h"
#include "core/nesting.h"
#include "core/shortened.h"
#include "os/clock.h"
#include "os/file_lock.h"

#include <chrono>

namespace buildlock::core {
namespace {

using namespace std::chrono_literals;

// How long an anchor without members is given for its creator to add the first one.
constexpr Seconds empty_group_grace = 1s;

bool is_claim(const std::string& path) {
  return lock_name_of_claim_file(os::split_path(path).second).has_value();
}

// A remover's claim (core/claimed_removal.h) is a second name of the file it claims, whose
// metadata says nothing about the claim: it is judged by its own age, the time since its file
// last changed status, by the rule that removers use to drop an abandoned claim.
void judge_claim(LockInspection& claim, std::int64_t now_ns, Seconds stale_after) {
  const Seconds age(double(now_ns - claim.entry.ctime_ns) / 1e9);
  if (age > stale_after) {
    claim.verdict = Verdict{LockState::stale,
                            "claim-abandoned",
                            "a remover's claim left " + format_duration(age) +
                                " ago, more than the " + format_duration(stale_after) + " limit",
                            "age",
                            {}};
  } else {
    claim.verdict = Verdict{LockState::held, "claim-in-use",
                            "a remover's claim made " + format_duration(age) + " ago", "age",
                            stale_after - age};
  }
}

// Judges a group's anchor that no kernel lock vouches for by its members (see the header).
void judge_anchor_by_members(LockInspection& anchor, const Observer& observer, Seconds stale_after,
                             bool kernel_locks, std::optional<std::int64_t> filesystem_now_ns,
                             Seconds anchor_age) {
  const auto [directory, file_name] = os::split_path(anchor.path);
  const auto name = lock_name_of_lock_file(file_name);
  if (!name) {
    return;
  }
  const GroupMembers members =
      live_group_members(directory, *name, observer, stale_after, kernel_locks, filesystem_now_ns);
  if (members.alive == 0 && anchor.kernel_lock_excludes_reclaimers) {
    // Its kernel lock, free on its creator's kernel, already says that no member holding it is
    // left, and that its creator is gone (it holds its share from before the name exists): no
    // group is forming, and the kernel lock's verdict stands.
    return;
  }
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

// Whether a process started under the inspected lock still runs (see CommandTree).
CommandTree command_tree_of(const LockInspection& inspection) {
  const auto owner = inspection.metadata->uid.value_or(inspection.entry.owner_uid);
  switch (os::find_marked_process(command_mark(inspection.entry.identity), owner)) {
  case os::ProcessSearch::found:
    return CommandTree::running;
  case os::ProcessSearch::none:
    return CommandTree::gone;
  case os::ProcessSearch::unreadable:
    break;
  }
  return CommandTree::unknown;
}

// Through a read-only descriptor on NFS only a shared lock can be tried; it is refused while
// someone holds the file's exclusive lock: a holder of an exclusive lock, holder, slot or writer
// file, or the command of a killed holder. (A group's anchor is held shared, which this cannot
// see: its members are asked instead.) The share is dropped at once.
bool exclusive_lock_held(const os::Fd& fd) {
  auto shared = os::try_lock(fd, os::LockType::shared);
  if (shared && *shared == os::LockAttempt::acquired) {
    os::unlock(fd);
    return false;
  }
  return shared && (*shared == os::LockAttempt::busy || *shared == os::LockAttempt::interrupted);
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
    text += " (" + shortened_command(metadata->command, longest_command_in_message) + ")";
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
  // Read-write where we may (NFS grants an exclusive flock only to a descriptor open for
  // writing); nothing is ever written through it.
  auto fd = os::open_regular_file_if_present(path, os::OpenFor::locking);
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
  bool metadata_read = false;
  if (kernel_locks) {
    attempt = os::try_lock(inspection.fd);
  } else {
    // Without kernel locks of our own we still ask the kernel lock of a holder on our kernel that
    // says it keeps one: flock demonstrably works on this file for this kernel, and only the
    // kernel lock knows that a killed wrapper's command still runs under the lock (a pid check
    // would call it dead). docs/protocol.md, "Mixing kernel-lock settings".
    read_metadata(inspection);
    metadata_read = true;
    if (inspection.metadata && inspection.metadata->kernel_lock &&
        same_kernel(*inspection.metadata, observer)) {
      attempt = os::try_lock(inspection.fd);
    }
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
  case os::LockAttempt::needs_write_access:
    // Never an error, and never free: judged by pid and heartbeat like a lock without kernel
    // locks, and reclaimed only by claim (claimed_removal.h).
    inspection.beacon = Beacon::unsupported;
    inspection.exclusive_lock_untestable = true;
    break;
  }
  // A shared lock refused proves an exclusive holder alive: the verdict goes by that.
  const bool exclusive_holder_seen =
      inspection.exclusive_lock_untestable && exclusive_lock_held(inspection.fd);

  if (!details && (exclusive_holder_seen || inspection.beacon == Beacon::held)) {
    // A held kernel lock is "held" whatever the metadata says (judge()'s first rule).
    inspection.metadata_problem = "not read";
    inspection.verdict = judge(Observation{}, observer, stale_after);
    return inspection;
  }
  if (!metadata_read) {
    read_metadata(inspection);
  }
  inspection.kernel_lock_excludes_reclaimers = inspection.beacon == Beacon::free &&
                                               inspection.metadata &&
                                               same_kernel(*inspection.metadata, observer);
  if (inspection.beacon == Beacon::free && inspection.metadata &&
      !inspection.metadata->kernel_lock) {
    // Its holder never took the kernel lock (--kernel-locks off): free proves nothing.
    inspection.beacon = Beacon::unsupported;
  }
  const Beacon judged = exclusive_holder_seen ? Beacon::held : inspection.beacon;

  Observation observation;
  observation.beacon = judged;
  observation.metadata = inspection.metadata ? &*inspection.metadata : nullptr;
  // A held kernel lock decides alone (judge() looks no further), so its pid is not probed:
  // `status` on a directory of busy locks would spend a quarter of its time reading /proc.
  if (judged != Beacon::held && inspection.metadata &&
      same_pid_namespace(*inspection.metadata, observer)) {
    observation.pid = os::probe_pid(inspection.metadata->pid);
  }
  const std::int64_t now_ns = filesystem_now_ns.value_or(os::wall_clock_ns());
  inspection.judged_at_ns = now_ns;
  inspection.stale_after = stale_after;
  observation.age = Seconds(double(now_ns - inspection.entry.mtime_ns) / 1e9);
  inspection.verdict = judge(observation, observer, stale_after);
  // Held by a killed wrapper's command? Say which processes keep it (`status` and waiters alike).
  name_the_keepers(inspection, observer);
  if (judged != Beacon::held && is_claim(path)) {
    judge_claim(inspection, now_ns, stale_after);
    return inspection;
  }
  if (inspection.verdict.state == LockState::stale && judged == Beacon::unsupported &&
      inspection.verdict.judged_by == "pid check") {
    // The holder's buildlock is gone, but without a kernel lock nothing else says whether the
    // command it ran is gone too (its kernel lock would have). Only now, since it reads every
    // process's environment.
    observation.tree = command_tree_of(inspection);
    inspection.verdict = judge(observation, observer, stale_after);
  }
  if (judged != Beacon::held && inspection.metadata &&
      inspection.metadata->mode != LockMode::exclusive &&
      lock_name_of_lock_file(os::split_path(path).second)) {
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
    if (!member) {
      // A member we cannot open (another user's file we may not read: EACCES) cannot be judged,
      // so it counts as alive, which never removes anything and never lets a writer in beside
      // it (issue 20, finding 5). Its owner's next run, or root, removes it if it is dead.
      ++members.files;
      if (members.alive++ == 0) {
        members.example =
            "`" + entry + "`, which cannot be judged (" + member.error().message + ")";
      }
      continue;
    }
    if (member->exists()) {
      ++members.files;
    }
    if (member->is_lock_file() && member->verdict.state == LockState::held) {
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

namespace {

RemovalTarget removal_target(const LockInspection& inspection) {
  return RemovalTarget{inspection.path,
                       inspection.entry.identity,
                       inspection.entry.mtime_ns,
                       inspection.stale_after,
                       inspection.judged_at_ns,
                       std::nullopt,
                       false};
}

} // namespace

Result<bool> remove_inspected(const LockInspection& inspection) {
  // With kernel locks, only their holder may remove the file; without, only its claimant, while
  // the name still names it (see docs/protocol.md, "Reclaim").
  if (!inspection.fd) {
    return false;
  }
  if (inspection.beacon != Beacon::held && is_claim(inspection.path)) {
    // Only a second name of a file (judged abandoned): removing it never displaces a lock.
    return remove_if_still_inspected_file(inspection);
  }
  switch (inspection.beacon) {
  case Beacon::free:
    if (inspection.kernel_lock_excludes_reclaimers) {
      return remove_if_still_inspected_file(inspection);
    }
    // Another host's file: its reclaimers there are not excluded by our kernel lock.
    return remove_claimed(removal_target(inspection));
  case Beacon::unsupported:
    return remove_claimed(removal_target(inspection));
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
