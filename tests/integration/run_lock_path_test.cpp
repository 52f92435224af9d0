// What may be found at the lock path and the lock directory (issue 2, scenario 15): buildlock
// never reads, writes or follows anything outside the lock directory, never hangs on a FIFO, and
// refuses entries that are not lock files with exit 74 (docs/cli.md, "The lock directory").
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pipe.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

std::string link_target(const std::string& path) {
  char buffer[4096];
  const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  return n < 0 ? std::string() : std::string(buffer, static_cast<std::size_t>(n));
}

std::vector<std::string> concat(std::vector<std::string> first,
                                const std::vector<std::string>& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

class RunLockPath : public IntegrationTest {
protected:
  void SetUp() override { make_lock_dir(); }

  // buildlock refuses the entry at the lock path: exit 74, one error line naming the entry and
  // what it is, the command never ran.
  void expect_refused(const std::string& what) {
    Pipe ran;
    Command command = run_under_lock("L", scripted({"notify", "3"}));
    command.pass_fd(3, ran.write_fd());
    Finished finished = run(command, 10s);
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
    EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
    EXPECT_EQ(finished.err.rfind("buildlock: error: ", 0), 0u) << finished.err;
    EXPECT_NE(finished.err.find(lock_path("L")), std::string::npos) << finished.err;
    EXPECT_NE(finished.err.find(what), std::string::npos) << finished.err;
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";
    // Nothing else was created or left in the lock directory (no temporary file).
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  }
};

TEST_F(RunLockPath, SymlinkToAFileOutsideIsRefusedAndTheFileIsUntouched) {
  const std::string outside = temp / "precious.txt";
  write_lock_file(outside, "precious content\n", WallClock::now() - std::chrono::hours(1));
  ASSERT_EQ(::chmod(outside.c_str(), 0644), 0);
  const auto mtime_before = mtime_of(outside);
  ASSERT_EQ(::symlink(outside.c_str(), lock_path("L").c_str()), 0);

  expect_refused("symbolic link");
  EXPECT_EQ(read_file(outside), "precious content\n");
  EXPECT_EQ(mtime_of(outside), mtime_before);
  EXPECT_EQ(link_target(lock_path("L")), outside) << "the symbolic link itself was changed";
}

TEST_F(RunLockPath, DanglingSymlinkIsRefusedAndNothingIsCreatedThroughIt) {
  const std::string outside = temp / "would-be-created";
  ASSERT_EQ(::symlink(outside.c_str(), lock_path("L").c_str()), 0);
  expect_refused("symbolic link");
  EXPECT_FALSE(exists_no_follow(outside)) << "buildlock wrote through the link";
}

TEST_F(RunLockPath, SymlinkToADirectoryOutsideIsRefusedAndNothingIsWrittenThere) {
  const std::string outside = temp / "elsewhere";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(outside.c_str(), lock_path("L").c_str()), 0);
  expect_refused("symbolic link");
  EXPECT_EQ(directory_entries(outside), std::vector<std::string>{});
}

TEST_F(RunLockPath, FifoIsRefusedWithoutHanging) {
  ASSERT_EQ(::mkfifo(lock_path("L").c_str(), 0644), 0);
  expect_refused("FIFO");
  struct stat info {};
  ASSERT_EQ(::lstat(lock_path("L").c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode));
}

TEST_F(RunLockPath, DirectoryIsRefusedAndItsContentIsUntouched) {
  ASSERT_EQ(::mkdir(lock_path("L").c_str(), 0755), 0);
  write_file(lock_path("L") + "/keep", "keep me\n");
  expect_refused("directory");
  EXPECT_EQ(directory_entries(lock_path("L")), std::vector<std::string>{"keep"});
  EXPECT_EQ(read_file(lock_path("L") + "/keep"), "keep me\n");
}

// A /tmp-like lock directory (world-writable, sticky) is fine and says nothing.
TEST_F(RunLockPath, WorldWritableStickyLockDirectoryWorksSilently) {
  ASSERT_EQ(::chmod(lock_dir.c_str(), 01777), 0);
  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}));
  command.pass_fd(3, ran.write_fd());
  Finished finished = run(command);
  ran.close_write();
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err, "");
  EXPECT_TRUE(ran.receives_byte(5s));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// Without the sticky bit any user can remove anyone's locks: buildlock works but warns.
TEST_F(RunLockPath, WorldWritableLockDirectoryWithoutStickyBitGetsAWarning) {
  ASSERT_EQ(::chmod(lock_dir.c_str(), 0777), 0);
  Finished finished = run(run_under_lock("L", scripted({})));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
  EXPECT_EQ(finished.err.rfind("buildlock: warning: ", 0), 0u) << finished.err;
  EXPECT_NE(finished.err.find("sticky"), std::string::npos) << finished.err;
}

class RunLockDirectory : public IntegrationTest {
protected:
  // While `command` runs under lock L, the lock file is at `expected_lock_file`.
  void expect_lock_file_at(Command command, const std::string& expected_lock_file) {
    Pipe started, release;
    command.pass_fd(3, started.write_fd()).pass_fd(4, release.read_fd());
    Process process = command.start();
    started.close_write();
    release.close_read();
    ASSERT_TRUE(started.receives_byte(10s)) << process.stderr_text();
    EXPECT_TRUE(exists_no_follow(expected_lock_file)) << expected_lock_file;
    release.write_byte();
    EXPECT_EQ(process.wait(10s), ExitStatus::exited(0)) << process.stderr_text();
    EXPECT_FALSE(exists_no_follow(expected_lock_file));
  }

  std::vector<std::string> held_command() const { return scripted({"notify", "3", "wait", "4"}); }
};

TEST_F(RunLockDirectory, MissingLockDirectoryIsCreatedWithItsParents) {
  const std::string deep = temp / "a/b/c";
  expect_lock_file_at(buildlock(concat({"run", "--dir", deep, "L", "--"}, held_command())),
                      deep + "/L.lock");
}

// Issue 25: `--dir /proc/...` exited 71 and `--dir /sys/...` 74. Whatever the cause, a lock
// directory that cannot be made exits 74, names the directory and says what to do.
TEST_F(RunLockDirectory, ADirectoryThatCannotBeMadeExits74NamingItAndTheWayOut) {
  for (const std::string dir : {"/proc/buildlock-nope", "/proc/self/buildlock-nope/deeper"}) {
    Pipe ran;
    Command command =
        buildlock(concat({"run", "--dir", dir, "L", "--"}, scripted({"notify", "3"})));
    command.pass_fd(3, ran.write_fd());
    Finished finished = run(command, 10s);
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
    EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
    EXPECT_EQ(finished.err.rfind("buildlock: error: lock directory `" + dir + "`: ", 0), 0u)
        << finished.err;
    EXPECT_NE(finished.err.find(" (use another with --dir or BUILDLOCK_DIR)\n"), std::string::npos)
        << finished.err;
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";
  }
}

TEST_F(RunLockDirectory, ComesFromTheEnvironmentWithoutDir) {
  Command command = buildlock(concat({"run", "L", "--"}, held_command()));
  command.env("BUILDLOCK_DIR", temp / "from-env");
  expect_lock_file_at(command, temp / "from-env/L.lock");
}

TEST_F(RunLockDirectory, DirOptionWinsOverTheEnvironment) {
  Command command =
      buildlock(concat({"run", "--dir", temp / "from-option", "L", "--"}, held_command()));
  command.env("BUILDLOCK_DIR", temp / "from-env");
  expect_lock_file_at(command, temp / "from-option/L.lock");
  EXPECT_FALSE(exists_no_follow(temp / "from-env"));
}

TEST_F(RunLockDirectory, DefaultsToTheXdgCacheDirectory) {
  Command command = buildlock(concat({"run", "L", "--"}, held_command()));
  command.env("XDG_CACHE_HOME", temp / "xdg").env("HOME", temp / "home");
  expect_lock_file_at(command, temp / "xdg/buildlock/L.lock");
}

TEST_F(RunLockDirectory, DefaultsToTheCacheInHomeWithoutXdg) {
  Command command = buildlock(concat({"run", "L", "--"}, held_command()));
  command.unset_env("XDG_CACHE_HOME").env("HOME", temp / "home");
  expect_lock_file_at(command, temp / "home/.cache/buildlock/L.lock");
}

TEST_F(RunLockDirectory, WithoutAnyDirectorySettingIsAUsageError) {
  Command command = buildlock({"run", "L", "--", "true"});
  command.unset_env("XDG_CACHE_HOME").unset_env("HOME");
  Finished finished = run(command);
  EXPECT_EQ(finished.status, ExitStatus::exited(2)) << finished.err;
  EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
}

TEST_F(RunLockDirectory, MayBeASymbolicLinkToADirectory) {
  const std::string real = temp / "real-locks";
  ASSERT_EQ(::mkdir(real.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(real.c_str(), (temp / "linked-locks").c_str()), 0);
  expect_lock_file_at(
      buildlock(concat({"run", "--dir", temp / "linked-locks", "L", "--"}, held_command())),
      real + "/L.lock");
}

TEST_F(RunLockDirectory, RegularFileAsLockDirectoryExits74AndIsUntouched) {
  const std::string file = temp / "not-a-directory";
  write_file(file, "data\n");
  Finished finished = run(buildlock({"run", "--dir", file, "L", "--", "true"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
  EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
  EXPECT_EQ(finished.err.rfind("buildlock: error: ", 0), 0u) << finished.err;
  EXPECT_EQ(read_file(file), "data\n");
}

TEST_F(RunLockDirectory, LockDirectoryBelowARegularFileExits74) {
  const std::string file = temp / "not-a-directory";
  write_file(file, "data\n");
  Finished finished = run(buildlock({"run", "--dir", file + "/locks", "L", "--", "true"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
  EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
  EXPECT_EQ(read_file(file), "data\n");
}

} // namespace
} // namespace buildlock::test
