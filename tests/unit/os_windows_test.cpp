// What only the Windows side of tool/os has: drive letters and backslashes, %LOCALAPPDATA%, and
// the interruption event that stands in for EINTR (os/windows/interruption.h).
#include "os/clock.h"
#include "os/file_lock.h"
#include "os/filesystem.h"
#include "os/windows/interruption.h"
#include "test_directory.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <thread>

namespace buildlock::os {
namespace {

using namespace std::chrono_literals;
using Split = std::pair<std::string, std::string>;

TEST(WindowsPaths, SplitAtEitherSeparatorAndKeepTheRootOfADrive) {
  EXPECT_EQ(split_path("C:\\Users\\me\\x.lock"), Split("C:\\Users\\me", "x.lock"));
  EXPECT_EQ(split_path("C:/Users/me\\x.lock"), Split("C:/Users/me", "x.lock"));
  EXPECT_EQ(split_path("C:\\x.lock"), Split("C:\\", "x.lock"));
  EXPECT_EQ(split_path("C:x.lock"), Split("C:", "x.lock"));
  EXPECT_EQ(split_path("\\\\server\\share\\x.lock"), Split("\\\\server\\share", "x.lock"));
}

TEST(WindowsPaths, JoinWithABackslashUnlessASeparatorOrADriveEndsTheDirectory) {
  EXPECT_EQ(join_path("C:\\locks", "x.lock"), "C:\\locks\\x.lock");
  EXPECT_EQ(join_path("C:\\locks\\", "x.lock"), "C:\\locks\\x.lock");
  EXPECT_EQ(join_path("C:/locks/", "x.lock"), "C:/locks/x.lock");
  EXPECT_EQ(join_path("C:", "x.lock"), "C:x.lock");
}

TEST(WindowsPaths, DirectoriesAreMadeUnderADriveLetterWithBackslashes) {
  test::TestDirectory directory;
  std::string base = directory.path();
  for (char& c : base) {
    c = c == '/' ? '\\' : c;
  }
  ASSERT_EQ(base[1], ':') << "an absolute path with a drive letter: " << base;
  const std::string deep = base + "\\a\\b/c";
  ASSERT_TRUE(make_directories(deep));
  EXPECT_EQ(stat_entry(deep)->type, EntryType::directory);
  auto file = create_new_file(join_path(deep, "x.lock"));
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(lstat_entry(base + "/a/b\\c/x.lock")->identity, fstat_entry(*file)->identity);
}

TEST(WindowsPaths, NamesAreUtf8) {
  test::TestDirectory directory;
  const std::string name = "caf\xc3\xa9-\xe6\x97\xa5.lock"; // café-日.lock
  ASSERT_TRUE(create_new_file(directory / name));
  EXPECT_EQ(*list_directory(directory.path()), std::vector<std::string>{name});
  EXPECT_EQ(lstat_entry(directory / name)->type, EntryType::regular);
}

TEST(WindowsDirectories, TheUserCacheIsLocalAppData) {
  const char* local = std::getenv("LOCALAPPDATA");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(*user_cache_directory(), local);
}

TEST(WindowsInterruption, InterruptingEndsABlockedLockWaitAsInterrupted) {
  test::TestDirectory directory;
  auto holder = create_new_file(directory / "x.lock");
  auto waiter = open_regular_file(directory / "x.lock", OpenFor::locking);
  ASSERT_EQ(*try_lock(*holder), LockAttempt::acquired);
  std::thread interrupter([] { interrupt_waits(); });
  auto attempt = lock_or_interrupt(*waiter);
  interrupter.join();
  EXPECT_EQ(*attempt, LockAttempt::interrupted);
  EXPECT_EQ(*try_lock(*waiter), LockAttempt::busy) << "still the holder's";
}

TEST(WindowsInterruption, AnInterruptionBeforeTheWaitEndsTheNextWait) {
  interrupt_waits();
  const auto started = monotonic_now();
  EXPECT_FALSE(sleep_until(started + 60s));
  EXPECT_LT(monotonic_now() - started, 30s);
  EXPECT_TRUE(sleep_until(monotonic_now() + 10ms)) << "one interruption ends one wait";
}

} // namespace
} // namespace buildlock::os
