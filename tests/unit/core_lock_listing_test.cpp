// Which directory entries are locks and temporary files, and the filesystem's clock.
#include "core/lock_listing.h"
#include "os/clock.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

void create(const std::string& path) {
  auto fd = os::create_new_file(path);
  ASSERT_TRUE(fd) << fd.error().message;
}

} // namespace

TEST(LockListing, LockFileNamesAreLocks) {
  const auto entry = classify_entry_name("compile-2.lock");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->kind, EntryKind::lock);
  EXPECT_EQ(entry->lock_name, "compile-2");
  EXPECT_EQ(entry->file_name, "compile-2.lock");
}

TEST(LockListing, TemporaryFileNamesNameTheirLock) {
  const auto entry = classify_entry_name(".compile.0123456789abcdef.tmp");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->kind, EntryKind::temp_file);
  EXPECT_EQ(entry->lock_name, "compile");
}

TEST(LockListing, OtherNamesAreNotBuildlocks) {
  for (const char* name : {"README", ".lock", ".hidden.lock", "bad name.lock", "x.lock~",
                           ".x.0123456789abcdeg.tmp", ".x.0123.tmp", "x.tmp"}) {
    EXPECT_FALSE(classify_entry_name(name)) << name;
  }
}

TEST(LockListing, MissingDirectoryIsEmptyNotAnError) {
  test::TestDirectory dir;
  auto listing = list_lock_directory(dir / "missing");
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_FALSE(listing->exists);
  EXPECT_TRUE(listing->entries.empty());
}

TEST(LockListing, FileInsteadOfDirectoryIsALockDirectoryError) {
  test::TestDirectory dir;
  create(dir / "file");
  auto listing = list_lock_directory(dir / "file");
  ASSERT_FALSE(listing);
  EXPECT_EQ(listing.error().kind, ErrorKind::lock_directory);
  EXPECT_NE(listing.error().message.find("not a directory"), std::string::npos);
}

TEST(LockListing, ListsLocksAndTemporaryFilesSortedByFileName) {
  test::TestDirectory dir;
  for (const char* name : {"b.lock", "notes.txt", ".b.00000000000000ff.tmp", "a.lock", "c.lock~"}) {
    create(dir / name);
  }
  ASSERT_EQ(::mkdir((dir / "d.lock").c_str(), 0700), 0); // listed: judged later, not by name
  auto listing = list_lock_directory(dir.path());
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_TRUE(listing->exists);
  std::vector<std::string> names;
  for (const auto& entry : listing->entries) {
    names.push_back(entry.file_name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{".b.00000000000000ff.tmp", "a.lock", "b.lock", "d.lock"}));
}

TEST(LockListing, FilesystemClockIsReadOffAProbeThatIsRemoved) {
  test::TestDirectory dir;
  const std::int64_t before = os::wall_clock_ns();
  const auto now = read_filesystem_clock(dir.path());
  ASSERT_TRUE(now);
  // A local filesystem stamps files with this machine's clock (at its tick granularity).
  EXPECT_GT(*now, before - 1'000'000'000);
  EXPECT_LT(*now, os::wall_clock_ns() + 1'000'000'000);
  auto names = os::list_directory(dir.path());
  ASSERT_TRUE(names);
  EXPECT_TRUE(names->empty());
}

TEST(LockListing, FilesystemClockIsUnknownWhereNothingCanBeCreated) {
  test::TestDirectory dir;
  EXPECT_FALSE(read_filesystem_clock(dir / "missing"));
}
