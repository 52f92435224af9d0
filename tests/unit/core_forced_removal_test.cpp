// `break --force`: removing a lock someone holds, but never a file other than the one judged.
#include "core/forced_removal.h"
#include "os/file_lock.h"
#include "test_directory.h"

#include <gtest/gtest.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

void write_file(const std::string& path, const std::string& content) {
  auto fd = os::create_new_file(path);
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_TRUE(os::write_all(*fd, content));
}

os::Fd lock_as_another_holder(const std::string& path) {
  auto fd = os::open_regular_file(path);
  EXPECT_TRUE(fd) << fd.error().message;
  if (!fd) {
    return {};
  }
  auto locked = os::try_lock(*fd);
  EXPECT_TRUE(locked && *locked == os::LockAttempt::acquired);
  return std::move(*fd);
}

LockInspection inspect(const std::string& path) {
  auto inspection = inspect_lock_file(path, current_observer(), Seconds(30), std::nullopt);
  EXPECT_TRUE(inspection) << inspection.error().message;
  return inspection ? std::move(*inspection) : LockInspection{};
}

} // namespace

TEST(ForcedRemoval, RemovesALockWhoseKernelLockIsHeld) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "");
  const os::Fd holder = lock_as_another_holder(dir / "x.lock");
  const LockInspection inspection = inspect(dir / "x.lock");
  ASSERT_EQ(inspection.beacon, Beacon::held);
  EXPECT_FALSE(*remove_inspected(inspection)) << "the race-free removal must refuse";
  auto removed = remove_inspected_by_force(inspection);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::missing);
}

TEST(ForcedRemoval, NeverRemovesALockCreatedAfterTheInspection) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "");
  os::Fd holder = lock_as_another_holder(dir / "x.lock");
  const LockInspection inspection = inspect(dir / "x.lock");
  // The holder releases; a newcomer creates a new lock file under the same name.
  ASSERT_TRUE(os::remove_file(dir / "x.lock"));
  holder.reset();
  write_file(dir / "x.lock", "newcomer");
  auto removed = remove_inspected_by_force(inspection);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::regular);
}

TEST(ForcedRemoval, FreeLockGoesTheRaceFreeWay) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "");
  const LockInspection inspection = inspect(dir / "x.lock");
  ASSERT_EQ(inspection.beacon, Beacon::free);
  EXPECT_TRUE(*remove_inspected_by_force(inspection));
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::missing);
}

TEST(ForcedRemoval, NothingThatWasNeverOpenedIsRemoved) {
  test::TestDirectory dir;
  ASSERT_TRUE(os::make_directories(dir / "x.lock"));
  const LockInspection inspection = inspect(dir / "x.lock");
  EXPECT_FALSE(*remove_inspected_by_force(inspection));
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::directory);
}

TEST(ForcedRemoval, RemovesALockHeldSharedByItsMembers) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "");
  auto member = os::open_regular_file(dir / "x.lock");
  ASSERT_TRUE(member);
  ASSERT_EQ(*os::try_lock(*member, os::LockType::shared), os::LockAttempt::acquired);
  const LockInspection inspection = inspect(dir / "x.lock");
  ASSERT_EQ(inspection.beacon, Beacon::held) << "a shared kernel lock keeps exclusive ones out";
  EXPECT_FALSE(*remove_inspected(inspection));
  EXPECT_TRUE(*remove_inspected_by_force(inspection));
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::missing);
}
