// os/*/filesystem.cpp: what the lock protocol needs of the filesystem, through the same interface
// on every platform (POSIX calls, or their Windows counterparts: MoveFileExW without replacing,
// CreateHardLinkW, POSIX delete semantics).
#include "os/file_lock.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <filesystem>
#include <gtest/gtest.h>

namespace buildlock::os {
namespace {

std::string content_of(const std::string& path) {
  auto fd = open_regular_file(path);
  EXPECT_TRUE(fd);
  bool truncated = false;
  return fd ? read_prefix(*fd, 4096, truncated).value() : std::string();
}

Fd file_with(const std::string& path, const std::string& content) {
  auto fd = create_new_file(path);
  EXPECT_TRUE(fd) << fd.error().message;
  EXPECT_TRUE(write_all(*fd, content));
  return std::move(*fd);
}

TEST(Filesystem, CreatingAFileNeverOpensAnExistingOne) {
  test::TestDirectory directory;
  const Fd first = file_with(directory / "a", "first");
  auto second = create_new_file(directory / "a");
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("cannot create"), std::string::npos);
  EXPECT_EQ(content_of(directory / "a"), "first");
}

// The atomic creation of a lock: a complete file gets its name, or the name is someone else's.
TEST(Filesystem, ANewNameIsGivenOnlyWhenFreeAndNeverReplacesTheHolder) {
  test::TestDirectory directory;
  { const Fd holder = file_with(directory / "x.lock", "holder"); }
  { const Fd mine = file_with(directory / "mine.tmp", "mine"); }
  auto taken = link_new_name(directory / "mine.tmp", directory / "x.lock");
  ASSERT_TRUE(taken) << taken.error().message;
  EXPECT_FALSE(*taken);
  EXPECT_EQ(content_of(directory / "x.lock"), "holder");
  auto given = link_new_name(directory / "mine.tmp", directory / "y.lock");
  ASSERT_TRUE(given) << given.error().message;
  EXPECT_TRUE(*given);
  EXPECT_EQ(content_of(directory / "y.lock"), "mine");
}

// The temporary file is open and locked when it gets its name (core/acquire_steps.cpp).
TEST(Filesystem, AnOpenLockedFileGetsItsNameAndKeepsItsLock) {
  test::TestDirectory directory;
  const Fd mine = file_with(directory / "mine.tmp", "mine");
  ASSERT_EQ(*try_lock(mine), LockAttempt::acquired);
  ASSERT_TRUE(*link_new_name(directory / "mine.tmp", directory / "x.lock"));
  auto other = open_regular_file(directory / "x.lock", OpenFor::locking);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(*try_lock(*other), LockAttempt::busy);
  EXPECT_EQ(fstat_entry(*other)->identity, fstat_entry(mine)->identity);
}

TEST(Filesystem, ASecondNameIsTheSameFileAndIsNeverTakenFromAnother) {
  test::TestDirectory directory;
  const Fd file = file_with(directory / "x.lock", "x");
  auto linked = link_unless_taken(directory / "x.lock", directory / "claim");
  ASSERT_TRUE(linked) << linked.error().message;
  EXPECT_EQ(*linked, LinkOutcome::linked);
  EXPECT_EQ(lstat_entry(directory / "claim")->identity,
            lstat_entry(directory / "x.lock")->identity);
  EXPECT_EQ(*link_unless_taken(directory / "x.lock", directory / "claim"), LinkOutcome::name_taken);
  EXPECT_EQ(*link_unless_taken(directory / "gone", directory / "other"), LinkOutcome::source_gone);
}

// A reclaimer removes a lock file its (killed) holder's file may still be open on, and the next
// holder creates the name at once.
TEST(Filesystem, RemovingAFileOpenElsewhereFreesItsNameAtOnce) {
  test::TestDirectory directory;
  const Fd holder = file_with(directory / "x.lock", "old");
  ASSERT_EQ(*try_lock(holder), LockAttempt::acquired);
  auto removed = remove_file(directory / "x.lock");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(lstat_entry(directory / "x.lock")->type, EntryType::missing);
  const Fd next = file_with(directory / "x.lock", "new");
  EXPECT_EQ(content_of(directory / "x.lock"), "new");
  EXPECT_FALSE(*remove_file(directory / "gone"));
}

TEST(Filesystem, EntriesAreDescribedWithoutOpeningThem) {
  test::TestDirectory directory;
  const Fd file = file_with(directory / "f", "12345");
  ASSERT_TRUE(std::filesystem::create_directory(directory / "d"));
  const auto regular = lstat_entry(directory / "f");
  ASSERT_TRUE(regular);
  EXPECT_EQ(regular->type, EntryType::regular);
  EXPECT_EQ(regular->size, 5);
  EXPECT_EQ(regular->identity, fstat_entry(file)->identity);
  EXPECT_EQ(lstat_entry(directory / "d")->type, EntryType::directory);
  EXPECT_EQ(lstat_entry(directory / "missing")->type, EntryType::missing);
  auto opened = open_regular_file(directory / "d");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("is a directory"), std::string::npos);
}

TEST(Filesystem, DirectoriesAreMadeWithEveryMissingLevelAndListed) {
  test::TestDirectory directory;
  const std::string deep = join_path(join_path(directory.path(), "a"), "b");
  ASSERT_TRUE(make_directories(deep));
  ASSERT_TRUE(make_directories(deep)) << "again: nothing to do";
  EXPECT_EQ(stat_entry(deep)->type, EntryType::directory);
  { const Fd file = file_with(join_path(deep, "x.lock"), ""); }
  EXPECT_EQ(*list_directory(deep), std::vector<std::string>{"x.lock"});
  auto not_a_directory = make_directories(join_path(deep, "x.lock"));
  ASSERT_FALSE(not_a_directory);
  EXPECT_EQ(not_a_directory.error().kind, ErrorKind::lock_directory);
}

TEST(Filesystem, TouchingAFileMovesItsModificationTime) {
  test::TestDirectory directory;
  const Fd file = file_with(directory / "f", "");
  const auto an_hour_ago =
      std::filesystem::last_write_time(directory / "f") - std::chrono::hours(1);
  std::filesystem::last_write_time(directory / "f", an_hour_ago);
  const auto before = fstat_entry(file)->mtime_ns;
  ASSERT_TRUE(touch(file));
  EXPECT_GT(fstat_entry(file)->mtime_ns, before);
}

TEST(Filesystem, PathsSplitAtTheLastSeparator) {
  EXPECT_EQ(split_path("/a/b"), std::make_pair(std::string("/a"), std::string("b")));
  EXPECT_EQ(split_path("/b"), std::make_pair(std::string("/"), std::string("b")));
  EXPECT_EQ(split_path("b"), std::make_pair(std::string("."), std::string("b")));
  EXPECT_EQ(split_path(join_path("a", "b")), std::make_pair(std::string("a"), std::string("b")));
}

} // namespace
} // namespace buildlock::os
