// os/posix/any_release.cpp: sleeping on several kernel locks at once (what a `--slots` waiter does).
// The holders here are other open file descriptions in this process: flock(2) locks belong to
// open file descriptions, so they conflict with each other as if held by other processes.
#include "os/any_release.h"
#include "os/file_lock.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <gtest/gtest.h>
#include <thread>

namespace buildlock::os {
namespace {

using namespace std::chrono_literals;

struct HeldFiles {
  explicit HeldFiles(const test::TestDirectory& directory, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string path = directory / ("slot" + std::to_string(i));
      auto created = create_new_file(path);
      EXPECT_TRUE(created);
      holders.push_back(std::move(*created));
      EXPECT_EQ(*try_lock(holders.back()), LockAttempt::acquired);
      auto opened = open_regular_file(path);
      EXPECT_TRUE(opened);
      watchers.push_back(std::move(*opened));
    }
  }
  std::vector<const Fd*> watched() const {
    std::vector<const Fd*> pointers;
    for (const Fd& fd : watchers) {
      pointers.push_back(&fd);
    }
    return pointers;
  }
  std::vector<Fd> holders;  // hold the kernel locks
  std::vector<Fd> watchers; // what the waiter sleeps on
};

TEST(AnyRelease, ReturnsAtTheDeadlineWhileEveryFileIsHeldAndTakesNothing) {
  test::TestDirectory directory;
  HeldFiles files(directory, 3);
  const auto started = monotonic_now();
  auto outcome = wait_for_any_release(files.watched(), started + 50ms);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, AnyRelease::deadline);
  EXPECT_GE(monotonic_now() - started, 50ms);
  // Still held by their holders, and the watchers hold nothing.
  for (const Fd& watcher : files.watchers) {
    EXPECT_EQ(*try_lock(watcher), LockAttempt::busy);
  }
}

TEST(AnyRelease, ReturnsAtOnceWhenAFileIsAlreadyFree) {
  test::TestDirectory directory;
  HeldFiles files(directory, 3);
  unlock(files.holders[2]);
  const auto started = monotonic_now();
  auto outcome = wait_for_any_release(files.watched(), started + 10s);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, AnyRelease::released);
  EXPECT_LT(monotonic_now() - started, 5s);
  // The lock taken while watching was dropped again: the holder can take it back.
  EXPECT_EQ(*try_lock(files.holders[2]), LockAttempt::acquired);
}

// Whichever file is let go, and whenever: the waiter wakes long before its deadline.
TEST(AnyRelease, WakesWhenAnyOneOfTheFilesIsReleasedLater) {
  for (int released = 0; released < 3; ++released) {
    test::TestDirectory directory;
    HeldFiles files(directory, 3);
    std::thread releaser([&] { unlock(files.holders[released]); });
    const auto started = monotonic_now();
    auto outcome = wait_for_any_release(files.watched(), started + 20s);
    releaser.join();
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(*outcome, AnyRelease::released) << "file " << released;
    EXPECT_LT(monotonic_now() - started, 10s);
    for (int other = 0; other < 3; ++other) {
      if (other != released) {
        EXPECT_EQ(*try_lock(files.watchers[other]), LockAttempt::busy) << "watcher kept a lock";
      }
    }
  }
}

TEST(AnyRelease, ManyRoundsLeaveNoWatcherBehind) {
  test::TestDirectory directory;
  HeldFiles files(directory, 4);
  for (int round = 0; round < 50; ++round) {
    auto outcome = wait_for_any_release(files.watched(), monotonic_now() + 1ms);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(*outcome, AnyRelease::deadline);
  }
  // A watcher still blocked in flock() would take a lock the moment it is released.
  unlock(files.holders[0]);
  EXPECT_EQ(*try_lock(files.holders[0]), LockAttempt::acquired);
}

} // namespace
} // namespace buildlock::os
