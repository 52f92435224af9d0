// common/proc_locks: the lines of /proc/locks the suites read, written out here, and the real
// /proc/locks of this kernel with locks of each type this process takes.
#include "common/proc_locks.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

TEST(ProcLocks, AHeldFlockLock) {
  const auto lock = parse_proc_lock("1: FLOCK  ADVISORY  WRITE 14221 fe:00:10952874 0 EOF\n");
  ASSERT_TRUE(lock);
  EXPECT_EQ(lock->id, 1);
  EXPECT_FALSE(lock->blocked);
  EXPECT_EQ(lock->type, ProcLockType::flock);
  EXPECT_EQ(lock->mode, ProcLockMode::write);
  EXPECT_EQ(lock->pid, 14221);
  EXPECT_EQ(lock->major, 0xfeU);
  EXPECT_EQ(lock->minor, 0U);
  EXPECT_EQ(lock->inode, 10952874U);
  EXPECT_EQ(lock->start, 0U);
  EXPECT_EQ(lock->end, std::nullopt);
  EXPECT_EQ(lock->line, "1: FLOCK  ADVISORY  WRITE 14221 fe:00:10952874 0 EOF");
}

// A request blocked behind lock 12, and one blocked behind that request (indented further).
TEST(ProcLocks, BlockedRequests) {
  const auto first = parse_proc_lock("12: -> FLOCK  ADVISORY  READ 14224 00:2f:5678 0 EOF");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, 12);
  EXPECT_TRUE(first->blocked);
  EXPECT_EQ(first->type, ProcLockType::flock);
  EXPECT_EQ(first->mode, ProcLockMode::read);
  EXPECT_EQ(first->pid, 14224);
  EXPECT_EQ(first->major, 0U);
  EXPECT_EQ(first->minor, 0x2fU);
  EXPECT_EQ(first->inode, 5678U);
  const auto second = parse_proc_lock("12:  -> FLOCK  ADVISORY  WRITE 14226 00:2f:5678 0 EOF");
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->blocked);
  EXPECT_EQ(second->pid, 14226);
  EXPECT_EQ(second->mode, ProcLockMode::write);
}

TEST(ProcLocks, APosixLockOnAByteRange) {
  const auto lock = parse_proc_lock("2: POSIX  ADVISORY  READ 1290 08:02:1234 100 199");
  ASSERT_TRUE(lock);
  EXPECT_FALSE(lock->blocked);
  EXPECT_EQ(lock->type, ProcLockType::posix);
  EXPECT_EQ(lock->mode, ProcLockMode::read);
  EXPECT_EQ(lock->major, 8U);
  EXPECT_EQ(lock->minor, 2U);
  EXPECT_EQ(lock->start, 100U);
  EXPECT_EQ(lock->end, 199U);
}

TEST(ProcLocks, AnOpenFileLockHasNoPid) {
  const auto lock = parse_proc_lock("3: OFDLCK ADVISORY  WRITE -1 fe:00:11198851 0 EOF");
  ASSERT_TRUE(lock);
  EXPECT_EQ(lock->type, ProcLockType::ofd);
  EXPECT_EQ(lock->pid, -1);
  EXPECT_EQ(lock->inode, 11198851U);
}

TEST(ProcLocks, OtherTypesAndModesAreKeptAsOther) {
  const auto lease = parse_proc_lock("4: LEASE  ACTIVE    UNLCK 1300 00:2f:77 0 EOF");
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->type, ProcLockType::other);
  EXPECT_EQ(lease->mode, ProcLockMode::other);
}

TEST(ProcLocks, WhatIsNoLockLineIsRefused) {
  for (const char* line : {"", "   ", "garbage", "1: FLOCK  ADVISORY  WRITE 14221 fe:00:10952874 0",
                           "1: FLOCK  ADVISORY  WRITE 14221 fe:00 0 EOF",
                           "1: FLOCK  ADVISORY  WRITE 14221 fe:00:10952874x 0 EOF",
                           "1: FLOCK  ADVISORY  WRITE pid fe:00:10952874 0 EOF",
                           "x: FLOCK  ADVISORY  WRITE 14221 fe:00:10952874 0 EOF",
                           "1 FLOCK  ADVISORY  WRITE 14221 fe:00:10952874 0 EOF",
                           "1: -> FLOCK  ADVISORY  WRITE 14221 fe:zz:10952874 0 EOF",
                           "1: POSIX  ADVISORY  WRITE 14221 fe:00:10952874 0 end"}) {
    EXPECT_EQ(parse_proc_lock(line), std::nullopt) << "`" << line << "`";
  }
}

// A file with locks of this process: each is read back with the file's device and inode.
class LockedFile {
public:
  LockedFile() {
    path_ = (std::filesystem::temp_directory_path() / "buildlock-proc-locks-XXXXXX").string();
    fd_ = ::mkstemp(path_.data());
    EXPECT_GE(fd_, 0) << path_;
  }
  ~LockedFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  LockedFile(const LockedFile&) = delete;
  LockedFile& operator=(const LockedFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
};

TEST(ProcLocks, ReadsThisKernelsLocks) {
  const LockedFile file;
  struct stat info {};
  ASSERT_EQ(::fstat(file.fd(), &info), 0);
  ASSERT_EQ(::flock(file.fd(), LOCK_EX | LOCK_NB), 0);
  struct flock range {};
  range.l_type = F_RDLCK;
  range.l_whence = SEEK_SET;
  range.l_start = 10;
  range.l_len = 10;
  ASSERT_EQ(::fcntl(file.fd(), F_SETLK, &range), 0);
  struct flock open_file_range {};
  open_file_range.l_type = F_WRLCK;
  open_file_range.l_whence = SEEK_SET;
  open_file_range.l_start = 100;
  ASSERT_EQ(::fcntl(file.fd(), F_OFD_SETLK, &open_file_range), 0);

  std::vector<ProcLock> mine;
  for (ProcLock& lock : read_proc_locks()) {
    if (lock.inode == info.st_ino && lock.major == major(info.st_dev) &&
        lock.minor == minor(info.st_dev)) {
      mine.push_back(std::move(lock));
    }
  }
  ASSERT_EQ(mine.size(), 3U);
  std::sort(mine.begin(), mine.end(),
            [](const ProcLock& a, const ProcLock& b) { return a.type < b.type; });
  EXPECT_EQ(mine[0].type, ProcLockType::flock);
  EXPECT_EQ(mine[0].mode, ProcLockMode::write);
  EXPECT_EQ(mine[0].pid, ::getpid());
  EXPECT_EQ(mine[1].type, ProcLockType::posix);
  EXPECT_EQ(mine[1].mode, ProcLockMode::read);
  EXPECT_EQ(mine[1].pid, ::getpid());
  EXPECT_EQ(mine[1].start, 10U);
  EXPECT_EQ(mine[1].end, 19U);
  EXPECT_EQ(mine[2].type, ProcLockType::ofd);
  EXPECT_EQ(mine[2].pid, -1);
  EXPECT_EQ(mine[2].start, 100U);
  EXPECT_EQ(mine[2].end, std::nullopt);
  for (const ProcLock& lock : mine) {
    EXPECT_FALSE(lock.blocked) << lock.line;
  }
}

// A process asleep in flock(2) behind this one's lock shows as a blocked request.
TEST(ProcLocks, ReadsABlockedRequestOfThisKernel) {
  const LockedFile file;
  ASSERT_EQ(::flock(file.fd(), LOCK_EX | LOCK_NB), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Its own open file: a second lock, which waits for the first.
    const int fd = ::open(file.path().c_str(), O_RDWR | O_CLOEXEC);
    ::_exit(fd >= 0 && ::flock(fd, LOCK_SH) == 0 ? 0 : 1);
  }
  // Polled until the kernel lists it, or for 60 s: a loaded machine may be slow to run the child.
  std::optional<ProcLock> request;
  for (int attempt = 0; attempt < 30000 && !request; ++attempt) {
    for (ProcLock& lock : read_proc_locks()) {
      if (lock.blocked && lock.pid == child) {
        request = std::move(lock);
      }
    }
    if (!request) {
      ::usleep(2000);
    }
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(request) << "the child never showed as blocked in /proc/locks";
  EXPECT_EQ(request->type, ProcLockType::flock);
  EXPECT_EQ(request->mode, ProcLockMode::read);
  struct stat info {};
  ASSERT_EQ(::fstat(file.fd(), &info), 0);
  EXPECT_EQ(request->inode, info.st_ino);
  EXPECT_NE(request->line.find("->"), std::string::npos);
}

// Lines that are no lock lines are left out of the file's locks, and the others kept in order.
TEST(ProcLocks, ReadingAFileLeavesOutWhatIsNoLockLine) {
  const LockedFile file;
  const std::string text = "1: FLOCK  ADVISORY  WRITE 100 fe:00:5 0 EOF\n"
                           "not a lock line\n"
                           "1: -> FLOCK  ADVISORY  WRITE 101 fe:00:5 0 EOF\n"
                           "2: POSIX  ADVISORY  WRITE 102 fe:00:6\n"
                           "3: POSIX  ADVISORY  READ 103 fe:00:7 0 9";
  ASSERT_EQ(::write(file.fd(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  const std::vector<ProcLock> locks = read_proc_locks(file.path().c_str());
  ASSERT_EQ(locks.size(), 3U);
  EXPECT_EQ(locks[0].pid, 100);
  EXPECT_FALSE(locks[0].blocked);
  EXPECT_EQ(locks[1].pid, 101);
  EXPECT_TRUE(locks[1].blocked);
  EXPECT_EQ(locks[1].line, "1: -> FLOCK  ADVISORY  WRITE 101 fe:00:5 0 EOF");
  EXPECT_EQ(locks[2].pid, 103);
  EXPECT_EQ(locks[2].end, 9U);
  EXPECT_EQ(locks[2].line, "3: POSIX  ADVISORY  READ 103 fe:00:7 0 9");
}

TEST(ProcLocks, AFileThatCannotBeReadHasNoLocks) {
  EXPECT_TRUE(read_proc_locks("/nonexistent/buildlock/locks").empty());
}

} // namespace
} // namespace buildlock::test
