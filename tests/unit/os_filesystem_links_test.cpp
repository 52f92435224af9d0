// os/posix/filesystem.cpp: symbolic links in the lock directory. (Windows refuses reparse points
// the same way, but Wine can neither create a symbolic link nor show one as a reparse point:
// tests/unit/CMakeLists.txt.)
#include "os/filesystem.h"
#include "test_directory.h"

#include <filesystem>
#include <gtest/gtest.h>

namespace buildlock::os {
namespace {

// Never through a link: the lock directory may be shared, and a link there could point anywhere.
TEST(Filesystem, ALinkIsSeenAsALinkAndNeverOpenedOrRemovedThrough) {
  test::TestDirectory directory;
  {
    auto target = create_new_file(directory / "target");
    ASSERT_TRUE(target && write_all(*target, "target"));
  }
  std::error_code error;
  std::filesystem::create_symlink(directory / "target", directory / "x.lock", error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(lstat_entry(directory / "x.lock")->type, EntryType::symlink);
  EXPECT_EQ(stat_entry(directory / "x.lock")->type, EntryType::regular);
  auto opened = open_regular_file_if_present(directory / "x.lock", OpenFor::locking);
  EXPECT_FALSE(opened);
  EXPECT_FALSE(create_new_file(directory / "x.lock"));
  EXPECT_TRUE(*remove_file(directory / "x.lock"));
  bool truncated = false;
  EXPECT_EQ(*read_prefix(*open_regular_file(directory / "target"), 100, truncated), "target");
}

} // namespace
} // namespace buildlock::os
