// os/*/file_lock.cpp: the kernel lock every platform gives through the same interface. On POSIX a
// flock(2); on Windows a LockFileEx range far past the end of the file. Two open files of one
// file conflict like two processes do (a flock belongs to the open file description, a byte-range
// lock to the handle), so one test process can play holder and waiter.
#include "os/file_lock.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <gtest/gtest.h>
#include <thread>

namespace buildlock::os {
namespace {

struct TwoOpenings {
  explicit TwoOpenings(const test::TestDirectory& directory)
      : path(directory / "x.lock"), first(std::move(*create_new_file(path))),
        second(std::move(*open_regular_file(path, OpenFor::locking))) {}
  std::string path;
  Fd first;
  Fd second;
};

TEST(FileLock, AnExclusiveLockKeepsEveryOtherLockOutUntilUnlocked) {
  test::TestDirectory directory;
  TwoOpenings files(directory);
  ASSERT_EQ(*try_lock(files.first), LockAttempt::acquired);
  EXPECT_EQ(*try_lock(files.second), LockAttempt::busy);
  EXPECT_EQ(*try_lock(files.second, LockType::shared), LockAttempt::busy);
  unlock(files.first);
  EXPECT_EQ(*try_lock(files.second), LockAttempt::acquired);
  EXPECT_EQ(*try_lock(files.first, LockType::shared), LockAttempt::busy);
}

TEST(FileLock, SharedLocksAreHeldTogetherAndKeepAnExclusiveOneOut) {
  test::TestDirectory directory;
  TwoOpenings files(directory);
  auto third = open_regular_file(files.path, OpenFor::locking);
  ASSERT_TRUE(third);
  ASSERT_EQ(*try_lock(files.first, LockType::shared), LockAttempt::acquired);
  ASSERT_EQ(*try_lock(files.second, LockType::shared), LockAttempt::acquired);
  EXPECT_EQ(*try_lock(*third), LockAttempt::busy);
  unlock(files.first);
  EXPECT_EQ(*try_lock(*third), LockAttempt::busy) << "the second share still holds it";
  unlock(files.second);
  EXPECT_EQ(*try_lock(*third), LockAttempt::acquired);
}

// What lets status, clean and every waiter read who holds a lock: the lock covers no byte of the
// content (on Windows, where locked bytes cannot be read by others, a lock at offset 0 would).
TEST(FileLock, TheContentStaysReadableAndWritableByOthersWhileLockedExclusively) {
  test::TestDirectory directory;
  TwoOpenings files(directory);
  ASSERT_TRUE(write_all(files.first, "{\"pid\": 1}"));
  ASSERT_EQ(*try_lock(files.first), LockAttempt::acquired);
  bool truncated = true;
  auto content = read_prefix(files.second, 4096, truncated);
  ASSERT_TRUE(content) << content.error().message;
  EXPECT_EQ(*content, "{\"pid\": 1}");
  EXPECT_FALSE(truncated);
  auto reader = open_regular_file(files.path);
  ASSERT_TRUE(reader);
  EXPECT_EQ(*read_prefix(*reader, 4096, truncated), "{\"pid\": 1}");
}

// An unlock undoes the lock however often it was taken: flock has one lock per open file, and the
// Windows side must not leave a second, stacked share behind.
TEST(FileLock, OneUnlockReleasesASharedLockTakenTwice) {
  test::TestDirectory directory;
  TwoOpenings files(directory);
  ASSERT_EQ(*try_lock(files.first, LockType::shared), LockAttempt::acquired);
  ASSERT_EQ(*try_lock(files.first, LockType::shared), LockAttempt::acquired);
  unlock(files.first);
  EXPECT_EQ(*try_lock(files.second), LockAttempt::acquired);
}

// Closing a file releases its lock at once (on Windows because closing unlocks first: the system
// alone releases it "when it gets to it").
TEST(FileLock, ClosingTheHolderReleasesTheLock) {
  test::TestDirectory directory;
  TwoOpenings files(directory);
  ASSERT_EQ(*try_lock(files.first), LockAttempt::acquired);
  ASSERT_EQ(*try_lock(files.second), LockAttempt::busy);
  files.first.reset();
  EXPECT_EQ(*try_lock(files.second), LockAttempt::acquired);
}

TEST(FileLock, ABlockingLockIsGrantedWhenTheHolderUnlocks) {
  test::TestDirectory directory;
  TwoOpenings files(directory);
  ASSERT_EQ(*try_lock(files.first), LockAttempt::acquired);
  std::thread holder([&] {
    // Gives the waiter no head start it relies on: whether it blocks first or not, the lock is
    // only free once this unlock ran, and the waiter must end up with it.
    unlock(files.first);
  });
  auto attempt = lock_or_interrupt(files.second);
  holder.join();
  ASSERT_TRUE(attempt) << attempt.error().message;
  EXPECT_EQ(*attempt, LockAttempt::acquired);
  EXPECT_EQ(*try_lock(files.first), LockAttempt::busy);
}

} // namespace
} // namespace buildlock::os
