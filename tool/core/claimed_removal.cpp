#include "core/claimed_removal.h"

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
// longer than --stale-after is abandoned, by the same rule that calls a silent holder dead.
void drop_if_abandoned(const std::string& claim, const RemovalTarget& target) {
  if (!target.now_ns) {
    return;
  }
  auto entry = os::lstat_entry(claim);
  if (!entry || entry->type != os::EntryType::regular) {
    return;
  }
  if (Seconds(double(*target.now_ns - entry->ctime_ns) / 1e9) > target.stale_after) {
    (void)os::remove_file(claim);
  }
}

} // namespace

std::string claim_path_for(const std::string& path, const os::FileIdentity& identity) {
  const auto [directory, file_name] = os::split_path(path);
  return os::join_path(directory, claim_file_name(lock_name_of_entry(file_name), identity.inode));
}

Result<bool> remove_claimed(const RemovalTarget& target, const std::function<bool()>& put_back) {
  const std::string claim = claim_path_for(target.path, target.identity);
  auto linked = os::link_unless_taken(target.path, claim);
  if (!linked) {
    return linked.error();
  }
  switch (*linked) {
  case os::LinkOutcome::source_gone:
    return false;
  case os::LinkOutcome::name_taken:
    drop_if_abandoned(claim, target);
    return false;
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
