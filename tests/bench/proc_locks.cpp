#include "proc_locks.h"

#include "common/proc_locks.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace buildlock::bench {
namespace {

FileKey key_of(const test::ProcLock& lock) {
  return FileKey{lock.major, lock.minor, lock.inode};
}

// flock(2) locks and requests only: the benchmark's locks are all taken with flock.
template <typename Visit> void for_each_flock(Visit visit) {
  for (const test::ProcLock& lock : test::read_proc_locks()) {
    if (lock.type == test::ProcLockType::flock) {
      visit(lock);
    }
  }
}

} // namespace

std::optional<FileKey> file_key(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return std::nullopt;
  }
  return FileKey{major(info.st_dev), minor(info.st_dev), std::uint64_t(info.st_ino)};
}

int count_blocked_waiters(const FileKey& file) {
  int count = 0;
  for_each_flock(
      [&](const test::ProcLock& lock) { count += lock.blocked && key_of(lock) == file ? 1 : 0; });
  return count;
}

int count_holders(const FileKey& file) {
  int count = 0;
  for_each_flock(
      [&](const test::ProcLock& lock) { count += !lock.blocked && key_of(lock) == file ? 1 : 0; });
  return count;
}

bool is_blocked_in_flock(pid_t pid) {
  bool found = false;
  for_each_flock(
      [&](const test::ProcLock& lock) { found = found || (lock.blocked && lock.pid == pid); });
  return found;
}

} // namespace buildlock::bench
