#include "core/claimed_removal.h"

#include "core/lock_listing.h"
#include "core/lock_name.h"

namespace buildlock::core {
namespace {

// The lock a lock file, holder file or temporary file belongs to, for the claim's name.
std::string lock_name_of_entry(const std::string& file_name) {
  if (auto name = lock_name_of_lock_file(file_name)) {
    return *name;
  }
  if (auto holder = parse_holder_file_name(file_name)) {
    return holder->lock_name;
  }
  return lock_name_of_temp_file(file_name).value_or("buildlock");
}

bool names(const std::string& path, const RemovalTarget& target) {
  auto entry = os::lstat_entry(path);
  return entry && entry->type == os::EntryType::regular && entry->identity == target.identity;
}

// Someone else's claim: in progress (leave it), or left by a remover killed mid-way. Its file's
// status changes with every link, unlink and heartbeat, so a claim whose file has been still for
// longer than --stale-after is abandoned, by the same rule that calls a silent holder dead; under
// the target's own kernel lock, at once (RemovalTarget::claimants_excluded). Returns whether the
// claim was dropped, so that the caller may claim at once.
bool drop_if_abandoned(const std::string& claim, const RemovalTarget& target) {
  auto entry = os::lstat_entry(claim);
  if (!entry || entry->type != os::EntryType::regular) {
    return false;
  }
  bool abandoned = target.claimants_excluded;
  if (!abandoned) {
    const auto now_ns = target.now_ns            ? target.now_ns
                        : target.clock_directory ? read_filesystem_clock(*target.clock_directory)
                                                 : std::nullopt;
    abandoned = now_ns && Seconds(double(*now_ns - entry->ctime_ns) / 1e9) > target.stale_after;
  }
  auto dropped = abandoned ? os::remove_file(claim) : Result<bool>(false);
  return dropped && *dropped;
}

} // namespace

std::string claim_path_for(const std::string& path, const os::FileIdentity& identity) {
  const auto [directory, file_name] = os::split_path(path);
  return os::join_path(directory, claim_file_name(lock_name_of_entry(file_name), identity.inode));
}

namespace {

// The claim as a file of its own, where the kernel refuses the hard link (Linux's
// fs.protected_hardlinks and another user's file we may not write; docs/protocol.md, "Claims
// without a hard link"). Created with O_EXCL under the same name, it excludes every other
// claimant of that file, hard link or not. What the hard link proved by itself (what the name
// held at the moment of the claim) is checked on the name instead, before it is removed; the
// judged file cannot be replaced by another with its inode meanwhile, since the caller keeps it
// open. There is no second name to put back from: `put_back` is not asked.
Result<bool> remove_with_claim_file(const RemovalTarget& target, const std::string& claim) {
  auto created = os::create_new_file_unless_taken(claim);
  if (!created) {
    return created.error();
  }
  if (!*created && drop_if_abandoned(claim, target) && target.claimants_excluded) {
    // Dropped at once under the kernel lock: claim now rather than after a pause.
    created = os::create_new_file_unless_taken(claim);
    if (!created) {
      return created.error();
    }
  }
  if (!*created) {
    return false;
  }
  created->reset();
  auto current = os::lstat_entry(target.path);
  bool removed = false;
  if (current && current->type == os::EntryType::regular && current->identity == target.identity &&
      (!target.mtime_ns || current->mtime_ns == *target.mtime_ns)) {
    auto unlinked = os::remove_file(target.path);
    if (!unlinked) {
      (void)os::remove_file(claim);
      return unlinked.error();
    }
    removed = *unlinked;
  }
  (void)os::remove_file(claim);
  return removed;
}

} // namespace

Result<bool> remove_claimed(const RemovalTarget& target, const std::function<bool()>& put_back) {
  const std::string claim = claim_path_for(target.path, target.identity);
  auto linked = os::link_unless_taken(target.path, claim);
  if (linked && *linked == os::LinkOutcome::name_taken && drop_if_abandoned(claim, target) &&
      target.claimants_excluded) {
    // Dropped at once under the kernel lock: claim now rather than after a pause.
    linked = os::link_unless_taken(target.path, claim);
  }
  if (!linked) {
    return linked.error();
  }
  switch (*linked) {
  case os::LinkOutcome::source_gone:
  case os::LinkOutcome::name_taken:
    return false;
  case os::LinkOutcome::refused:
    return remove_with_claim_file(target, claim);
  case os::LinkOutcome::linked:
    break;
  }
  // The claim is ours. Is it the judged file? (link() followed whatever the name held by then.)
  auto claimed = os::lstat_entry(claim);
  bool removed = false;
  if (claimed && claimed->type == os::EntryType::regular && claimed->identity == target.identity &&
      (!target.mtime_ns || claimed->mtime_ns == *target.mtime_ns) && names(target.path, target)) {
    auto unlinked = os::remove_file(target.path);
    if (!unlinked) {
      (void)os::remove_file(claim);
      return unlinked.error();
    }
    removed = *unlinked;
    if (removed && put_back && put_back()) {
      // link() never replaces: if a newer lock took the name meanwhile, it stays.
      (void)os::link_new_name(claim, target.path);
      removed = false;
    }
  }
  // Dropping a claim removes a second name of a file, never the name anyone holds by.
  (void)os::remove_file(claim);
  return removed;
}

} // namespace buildlock::core
