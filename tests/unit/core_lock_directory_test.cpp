// Where the lock directory is (option, environment, per-user default) and preparing it.
#include "core/lock_directory.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

// Sets (or, with nullopt, unsets) one environment variable for its lifetime.
class ScopedVariable {
public:
  ScopedVariable(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      previous_ = old;
    }
    apply(value);
  }
  ~ScopedVariable() { apply(previous_); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

private:
  void apply(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> previous_;
};

std::string resolved(const std::optional<std::string>& option) {
  auto directory = resolve_lock_directory(option);
  EXPECT_TRUE(directory) << directory.error().message;
  return directory ? *directory : "";
}

std::string warnings_of_preparing(const std::string& directory) {
  ::testing::internal::CaptureStderr();
  const Status prepared = prepare_lock_directory(directory, Messages{});
  const std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(prepared) << prepared.error().message;
  return output;
}

} // namespace

// --- Which directory ----------------------------------------------------------------------------

TEST(LockDirectory, OptionBeatsEnvironment) {
  ScopedVariable dir("BUILDLOCK_DIR", "/from/env");
  ScopedVariable cache("XDG_CACHE_HOME", "/cache");
  EXPECT_EQ(resolved("/from/option"), "/from/option");
}

TEST(LockDirectory, BuildlockDirBeatsTheDefault) {
  ScopedVariable dir("BUILDLOCK_DIR", "/from/env");
  ScopedVariable cache("XDG_CACHE_HOME", "/cache");
  EXPECT_EQ(resolved(std::nullopt), "/from/env");
}

TEST(LockDirectory, DefaultIsUnderTheXdgCacheHome) {
  ScopedVariable dir("BUILDLOCK_DIR", std::nullopt);
  ScopedVariable cache("XDG_CACHE_HOME", "/home/dev/.xdg-cache");
  ScopedVariable home("HOME", "/home/dev");
  EXPECT_EQ(resolved(std::nullopt), "/home/dev/.xdg-cache/buildlock");
}

TEST(LockDirectory, DefaultFallsBackToDotCacheInHome) {
  ScopedVariable dir("BUILDLOCK_DIR", std::nullopt);
  ScopedVariable cache("XDG_CACHE_HOME", std::nullopt);
  ScopedVariable home("HOME", "/home/dev");
  EXPECT_EQ(resolved(std::nullopt), "/home/dev/.cache/buildlock");
}

TEST(LockDirectory, EmptyVariablesCountAsUnset) {
  ScopedVariable dir("BUILDLOCK_DIR", "");
  ScopedVariable cache("XDG_CACHE_HOME", "");
  ScopedVariable home("HOME", "/home/dev/");
  EXPECT_EQ(resolved(std::nullopt), "/home/dev/.cache/buildlock");
}

TEST(LockDirectory, WithoutAnyHintItIsAUsageError) {
  ScopedVariable dir("BUILDLOCK_DIR", std::nullopt);
  ScopedVariable cache("XDG_CACHE_HOME", std::nullopt);
  ScopedVariable home("HOME", std::nullopt);
  auto directory = resolve_lock_directory(std::nullopt);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().kind, ErrorKind::usage);
  EXPECT_NE(directory.error().message.find("pass --dir or set BUILDLOCK_DIR"), std::string::npos);
}

TEST(LockDirectory, EmptyOptionIsAUsageError) {
  auto directory = resolve_lock_directory(std::string());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().kind, ErrorKind::usage);
  EXPECT_EQ(directory.error().message, "--dir: empty directory name");
}

// --- Preparing it -------------------------------------------------------------------------------

TEST(LockDirectory, MissingLevelsAreCreated) {
  test::TestDirectory dir;
  const std::string nested = dir / "a/b/c";
  EXPECT_EQ(warnings_of_preparing(nested), "");
  EXPECT_EQ(os::stat_entry(nested)->type, os::EntryType::directory);
  EXPECT_EQ(warnings_of_preparing(nested), "") << "an existing directory is fine too";
}

TEST(LockDirectory, TrailingSlashIsFine) {
  test::TestDirectory dir;
  EXPECT_EQ(warnings_of_preparing(dir / "locks/"), "");
  EXPECT_EQ(os::stat_entry(dir / "locks")->type, os::EntryType::directory);
}

TEST(LockDirectory, SymbolicLinkToADirectoryIsFollowed) {
  test::TestDirectory dir;
  ASSERT_EQ(::mkdir((dir / "real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((dir / "real").c_str(), (dir / "link").c_str()), 0);
  EXPECT_EQ(warnings_of_preparing(dir / "link"), "");
}

TEST(LockDirectory, FileInTheWayIsALockDirectoryError) {
  test::TestDirectory dir;
  auto file = os::create_new_file(dir / "file");
  ASSERT_TRUE(file);
  for (const std::string& path : {dir / "file", dir / "file/sub"}) {
    const Status prepared = prepare_lock_directory(path, Messages{});
    ASSERT_FALSE(prepared) << path;
    EXPECT_EQ(prepared.error().kind, ErrorKind::lock_directory) << prepared.error().message;
    EXPECT_NE(prepared.error().message.find("`" + dir.path() + "/file"), std::string::npos)
        << prepared.error().message;
  }
}

TEST(LockDirectory, WorldWritableWithoutStickyBitIsWarnedAbout) {
  test::TestDirectory dir;
  ASSERT_EQ(::mkdir((dir / "open").c_str(), 0700), 0);
  ASSERT_EQ(::chmod((dir / "open").c_str(), 0777), 0);
  const std::string output = warnings_of_preparing(dir / "open");
  EXPECT_EQ(output, "buildlock: warning: lock directory `" + (dir / "open") +
                        "` is world-writable without the sticky bit: any user can remove its "
                        "locks (chmod +t it)\n");
}

TEST(LockDirectory, WorldWritableWithStickyBitIsAccepted) {
  test::TestDirectory dir;
  ASSERT_EQ(::mkdir((dir / "tmp-like").c_str(), 0700), 0);
  ASSERT_EQ(::chmod((dir / "tmp-like").c_str(), 01777), 0);
  EXPECT_EQ(warnings_of_preparing(dir / "tmp-like"), "");
}

// What a claim needs under fs.protected_hardlinks (docs/protocol.md, "Claims and protected hard
// links"): the users who may write the directory may read and write our files; nobody extra in
// a sticky directory, where they could not remove our files anyway.
TEST(LockDirectory, FilesAreOpenToTheUsersWhoMayWriteTheDirectoryUnlessItIsSticky) {
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(0700), 0u);
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(0755), 0u);
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(02770), 0060u);
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(0775), 0060u);
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(0777), 0066u);
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(01777), 0u);
  EXPECT_EQ(buildlock::core::permissions_for_directory_users(03770), 0u);
}
