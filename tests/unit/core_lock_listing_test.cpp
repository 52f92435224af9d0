// Which directory entries are locks and temporary files, and the filesystem's clock.
#include "core/lock_listing.h"
#include "os/clock.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <filesystem>
#include <gtest/gtest.h>

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
  ASSERT_TRUE(
      std::filesystem::create_directory(dir / "d.lock")); // listed: judged later, not by name
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

TEST(LockListing, HolderFileNamesNameTheirLockKindAndSlot) {
  const auto shared = classify_entry_name("cache.lock+shared.0123456789abcdef");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->kind, EntryKind::shared_holder);
  EXPECT_EQ(shared->lock_name, "cache");
  EXPECT_EQ(shared->file_name, "cache.lock+shared.0123456789abcdef");
  const auto slot = classify_entry_name("links.lock+slot.12");
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->kind, EntryKind::slot_holder);
  EXPECT_EQ(slot->lock_name, "links");
  EXPECT_EQ(slot->slot, 12);
  const auto writer = classify_entry_name("a.b.lock+writer");
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->kind, EntryKind::writer);
  EXPECT_EQ(writer->lock_name, "a.b");
  EXPECT_TRUE(is_holder_file(EntryKind::shared_holder));
  EXPECT_TRUE(is_holder_file(EntryKind::writer));
  EXPECT_FALSE(is_holder_file(EntryKind::lock));
  EXPECT_FALSE(is_holder_file(EntryKind::temp_file));
}

TEST(LockListing, MalformedHolderFileNamesAreNotBuildlocks) {
  for (const char* name : {"x.lock+slot.0", "x.lock+slot.65", "x.lock+slot.01", "x.lock+slot.",
                           "x.lock+shared.0123", "x.lock+shared.0123456789abcdeg", "x.lock+writer2",
                           "x.lock+", ".x.lock+writer", "x+writer", "bad name.lock+writer"}) {
    EXPECT_FALSE(classify_entry_name(name)) << name;
  }
}

TEST(LockListing, KindNamesAreTheJsonValues) {
  EXPECT_STREQ(to_string(EntryKind::shared_holder), "shared");
  EXPECT_STREQ(to_string(EntryKind::slot_holder), "slot");
  EXPECT_STREQ(to_string(EntryKind::writer), "writer");
}

namespace {

std::vector<DirectoryEntry> classified(const std::vector<std::string>& names) {
  std::vector<DirectoryEntry> entries;
  for (const auto& name : names) {
    auto entry = classify_entry_name(name);
    EXPECT_TRUE(entry) << name;
    if (entry) {
      entries.push_back(*entry);
    }
  }
  return entries;
}

std::vector<std::string> file_names(const std::vector<DirectoryEntry>& entries) {
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (const auto& entry : entries) {
    names.push_back(entry.file_name);
  }
  return names;
}

} // namespace

TEST(LockListing, GroupsEachLockWithItsHolderFilesInReadingOrder) {
  const auto groups = group_by_lock(classified({
      ".links.0123456789abcdef.tmp",
      "a-b.lock",
      "cache.lock",
      "cache.lock+shared.00000000000000ff",
      "cache.lock+shared.0000000000000001",
      "cache.lock+writer",
      "links.lock",
      "links.lock+slot.10",
      "links.lock+slot.2",
      "orphan.lock+slot.1",
  }));
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].lock.file_name, "a-b.lock");
  EXPECT_TRUE(groups[0].holders.empty());
  EXPECT_EQ(groups[1].lock.lock_name, "cache");
  EXPECT_EQ(file_names(groups[1].holders),
            (std::vector<std::string>{"cache.lock+shared.0000000000000001",
                                      "cache.lock+shared.00000000000000ff", "cache.lock+writer"}));
  // Slots by number, not by file name.
  EXPECT_EQ(file_names(groups[2].holders),
            (std::vector<std::string>{"links.lock+slot.2", "links.lock+slot.10"}));
  // Holder files whose lock file is gone still make a group, whose lock entry is looked for.
  EXPECT_EQ(groups[3].lock.kind, EntryKind::lock);
  EXPECT_EQ(groups[3].lock.file_name, "orphan.lock");
  EXPECT_EQ(file_names(groups[3].holders), std::vector<std::string>{"orphan.lock+slot.1"});
}

TEST(LockListing, GroupOfANamedLockHasOnlyItsOwnHolderFiles) {
  const auto entries = classified(
      {"a.lock", "a.lock+slot.1", "a.b.lock", "a.b.lock+slot.2", ".a.0123456789abcdef.tmp"});
  const LockGroup a = group_of("a", entries);
  EXPECT_EQ(a.lock.file_name, "a.lock");
  EXPECT_EQ(file_names(a.holders), std::vector<std::string>{"a.lock+slot.1"});
  const LockGroup absent = group_of("absent", entries);
  EXPECT_EQ(absent.lock.file_name, "absent.lock");
  EXPECT_TRUE(absent.holders.empty());
}

TEST(LockListing, ListsHolderFilesBesideTheirLocks) {
  test::TestDirectory dir;
  for (const char* name : {"x.lock+slot.3", "x.lock", "x.lock+slot.x", "y.lock+writer"}) {
    create(dir / name);
  }
  auto listing = list_lock_directory(dir.path());
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_EQ(file_names(listing->entries),
            (std::vector<std::string>{"x.lock", "x.lock+slot.3", "y.lock+writer"}));
}
