// Contended runs on a filesystem that takes flock(2) the way a Linux NFS client does (issue 13,
// finding 3): flock emulated with byte-range locks, so LOCK_EX needs a descriptor open for
// writing (EBADF otherwise), and no write access for root to a file its mode bits deny.
//
// No NFS server can run here (no nfs kernel module), so helpers/nfs_like_fs.cpp emulates that
// client behaviour in a FUSE filesystem over a private directory; every test mounts its own and
// unmounts it at the end. Where FUSE cannot be mounted the tests fail: they are the only proof of
// this behaviour, so they never skip (.ci/install-deps installs fuse3).
//
// Each run's command is a shell with a child (`sh -c 'scripted_command ...; true'`), as a build
// step would be.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

const std::string nfs_like_fs_binary = NFS_LIKE_FS_BINARY;

// A `buildlock run` whose shell command says when it runs and ends when the test lets it go.
struct ShellHolder {
  Pipe started; // the command's child writes a byte here (its fd 3) once it runs
  Pipe release; // the command ends when the test closes this (its fd 4 sees end-of-file)
  std::optional<Process> process;

  // Once the whole command tree is gone: every writer of `started` has closed it.
  ::testing::AssertionResult command_is_gone() { return started.ends_without_data(10s); }
};

class NfsLikeFs : public IntegrationTest {
protected:
  const std::string backing = temp / "backing";
  const std::string mount_point = temp / "mnt";
  const std::string dir = mount_point + "/locks";
  std::optional<Process> filesystem;

  void SetUp() override {
    ASSERT_EQ(::mkdir(backing.c_str(), 0755), 0) << std::strerror(errno);
    ASSERT_EQ(::mkdir(mount_point.c_str(), 0755), 0) << std::strerror(errno);
    Pipe mounted;
    filesystem.emplace(Command({nfs_like_fs_binary, backing, mount_point, "3"})
                           .pass_fd(3, mounted.write_fd())
                           .start());
    mounted.close_write();
    ASSERT_TRUE(mounted.receives_byte(10s))
        << "cannot mount the NFS-like FUSE filesystem (needs /dev/fuse and fusermount3): "
        << filesystem->stderr_text();
  }

  void TearDown() override {
    if (!filesystem) {
      return;
    }
    // A lazy unmount only if a failed test left something open on the mount.
    if (run(program({"fusermount3", "-u", mount_point})).status != ExitStatus::exited(0)) {
      ADD_FAILURE() << "the mount was still busy at the end of the test";
      run(program({"fusermount3", "-u", "-z", mount_point}));
    }
    EXPECT_EQ(filesystem->wait(10s), ExitStatus::exited(0)) << filesystem->stderr_text();
  }

  // `buildlock run --dir DIR OPTIONS... L -- sh -c 'SCRIPT'`
  Command run_shell(const std::string& script, std::vector<std::string> options = {},
                    const std::string& lock = "L") const {
    std::vector<std::string> arguments = {"run", "--dir", dir};
    arguments.insert(arguments.end(), options.begin(), options.end());
    arguments.insert(arguments.end(), {lock, "--", "sh", "-c", script + "; true"});
    return buildlock(arguments);
  }

  // Starts a holder and returns once its command runs (the lock exists then).
  std::unique_ptr<ShellHolder> hold(std::vector<std::string> options = {},
                                    const std::string& lock = "L") const {
    auto holder = std::make_unique<ShellHolder>();
    Command command =
        run_shell("'" + scripted_command_binary() + "' notify 3 wait 4", std::move(options), lock)
            .pass_fd(3, holder->started.write_fd())
            .pass_fd(4, holder->release.read_fd());
    holder->process.emplace(command.start());
    holder->started.close_write();
    holder->release.close_read();
    EXPECT_TRUE(holder->started.receives_byte(10s)) << holder->process->stderr_text();
    return holder;
  }

  // A run that only notifies on fd 3 that its command ran.
  Command notifying_run(const Pipe& ran, std::vector<std::string> options = {}) const {
    return run_shell("'" + scripted_command_binary() + "' notify 3", std::move(options))
        .pass_fd(3, ran.write_fd());
  }

  // A waiter sees the lock held by its kernel lock, waits, and runs once `holder` has ended.
  void expect_a_waiter_held_off_until_the_holder_ends(ShellHolder& holder) const {
    Pipe ran;
    Process waiter = notifying_run(ran, {"--verbose"}).start();
    ran.close_write();
    EXPECT_TRUE(file_eventually_contains(waiter.stderr_path(), "[kernel-lock-held]", 10s));
    EXPECT_TRUE(waiter.is_running()) << waiter.stderr_text();
    holder.release.close_write();
    EXPECT_EQ(holder.process->wait(10s), ExitStatus::exited(0)) << holder.process->stderr_text();
    EXPECT_TRUE(ran.receives_byte(10s)) << waiter.stderr_text();
    EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0)) << waiter.stderr_text();
  }

  // kill -9 of `holder`'s buildlock alone: a run finds the lock held by the command's kernel
  // lock and does not run; once the command has ended, a run reclaims the lock at once.
  void expect_kept_by_the_command_of_a_killed_holder_then_reclaimed(ShellHolder& holder) const {
    holder.process->send_signal(SIGKILL);
    EXPECT_EQ(holder.process->wait(10s), ExitStatus::killed_by(SIGKILL));
    {
      Pipe ran;
      Finished finished = run(notifying_run(ran, {"--timeout", "0", "--verbose"}));
      ran.close_write();
      EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
      EXPECT_NE(finished.err.find("[kernel-lock-held]"), std::string::npos) << finished.err;
      EXPECT_TRUE(ran.ends_without_data(5s)) << "the lock was taken from a running command";
    }
    holder.release.close_write();
    EXPECT_TRUE(holder.command_is_gone());
    Pipe ran;
    Finished finished = run(notifying_run(ran, {"--timeout", "0", "--verbose"}));
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
    EXPECT_NE(finished.err.find("reclaimed stale lock `L`"), std::string::npos) << finished.err;
    EXPECT_NE(finished.err.find("[holder-dead]"), std::string::npos) << finished.err;
    EXPECT_TRUE(ran.receives_byte(5s));
    EXPECT_EQ(directory_entries(dir), std::vector<std::string>{});
  }

  // `buildlock SUBCOMMAND --dir DIR ARGUMENTS...`
  Command manage(const std::string& subcommand, std::vector<std::string> arguments = {}) const {
    arguments.insert(arguments.begin(), {subcommand, "--dir", dir});
    return buildlock(arguments);
  }
};

// The emulation itself: without it every other test here would prove nothing.
TEST_F(NfsLikeFs, ExclusiveFlockNeedsADescriptorOpenForWritingAsOnNfs) {
  const std::string path = mount_point + "/file";
  const int writable = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(writable, 0) << std::strerror(errno);
  const int read_only = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(read_only, 0) << std::strerror(errno);
  EXPECT_EQ(::flock(read_only, LOCK_EX | LOCK_NB), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(::flock(read_only, LOCK_SH | LOCK_NB), 0) << std::strerror(errno);
  EXPECT_EQ(::flock(writable, LOCK_EX | LOCK_NB), -1) << "a shared lock did not exclude";
  EXPECT_EQ(errno, EWOULDBLOCK);
  // Unlocked before closing: FUSE sends the RELEASE that drops a closed descriptor's lock
  // asynchronously, so a close alone may not have freed it yet (buildlock unlocks explicitly too).
  EXPECT_EQ(::flock(read_only, LOCK_UN), 0) << std::strerror(errno);
  ::close(read_only);
  EXPECT_EQ(::flock(writable, LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
  ::close(writable);
  ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
  EXPECT_EQ(::open(path.c_str(), O_RDWR | O_CLOEXEC), -1) << "root may write a 0444 file here";
  EXPECT_EQ(errno, EACCES);
}

TEST_F(NfsLikeFs, ExclusiveWaiterWaitsForTheHolderThenRuns) {
  auto holder = hold();
  expect_a_waiter_held_off_until_the_holder_ends(*holder);
  EXPECT_EQ(directory_entries(dir), std::vector<std::string>{});
}

TEST_F(NfsLikeFs, WaiterTimesOutWithExit75WhileTheLockIsHeld) {
  auto holder = hold();
  Pipe ran;
  Finished finished = run(notifying_run(ran, {"--timeout", "0.2"}));
  ran.close_write();
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran while the lock was held";
  holder->release.close_write();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

TEST_F(NfsLikeFs, SharedRunsHoldTogetherAndAWriterWaitsForBoth) {
  auto first = hold({"--shared"});
  auto second = hold({"--shared"}); // runs while the first holds: readers together
  Pipe ran;
  Process writer = notifying_run(ran, {"--verbose"}).start();
  ran.close_write();
  EXPECT_TRUE(file_eventually_contains(writer.stderr_path(), "waiting for", 10s));
  first->release.close_write();
  EXPECT_EQ(first->process->wait(10s), ExitStatus::exited(0)) << first->process->stderr_text();
  EXPECT_TRUE(writer.is_running()) << "the writer did not wait for the second reader";
  second->release.close_write();
  EXPECT_EQ(second->process->wait(10s), ExitStatus::exited(0)) << second->process->stderr_text();
  EXPECT_TRUE(ran.receives_byte(10s)) << writer.stderr_text();
  EXPECT_EQ(writer.wait(10s), ExitStatus::exited(0)) << writer.stderr_text();
  EXPECT_EQ(directory_entries(dir), std::vector<std::string>{}) << "the group left files behind";
}

TEST_F(NfsLikeFs, ThirdRunOfTwoSlotsWaitsForAFreeSlot) {
  auto first = hold({"--slots", "2"});
  auto second = hold({"--slots", "2"});
  Pipe ran;
  Process third = notifying_run(ran, {"--slots", "2", "--verbose"}).start();
  ran.close_write();
  EXPECT_TRUE(file_eventually_contains(third.stderr_path(), "waiting for a slot", 10s));
  EXPECT_TRUE(third.is_running()) << third.stderr_text();
  second->release.close_write();
  EXPECT_EQ(second->process->wait(10s), ExitStatus::exited(0)) << second->process->stderr_text();
  EXPECT_TRUE(ran.receives_byte(10s)) << third.stderr_text();
  EXPECT_EQ(third.wait(10s), ExitStatus::exited(0)) << third.stderr_text();
  first->release.close_write();
  EXPECT_EQ(first->process->wait(10s), ExitStatus::exited(0)) << first->process->stderr_text();
  EXPECT_EQ(directory_entries(dir), std::vector<std::string>{});
}

// kill -9 of buildlock alone: its command keeps the kernel lock, and nobody takes the lock from
// it; once the command ends, the next run reclaims the lock at once.
TEST_F(NfsLikeFs, KilledHoldersLockIsKeptByItsCommandThenReclaimedAtOnce) {
  auto holder = hold();
  expect_kept_by_the_command_of_a_killed_holder_then_reclaimed(*holder);
}

// Someone else's lock file, which we may not open for writing (mode 0444 here, root included):
// the kernel lock cannot be tried exclusively, so it is judged by its holder's pid; never an
// error, never free while its holder lives.
TEST_F(NfsLikeFs, LockFileWeMayNotWriteIsJudgedByItsHolderNotAnError) {
  auto holder = hold();
  ASSERT_EQ(::chmod((dir + "/L.lock").c_str(), 0444), 0) << std::strerror(errno);
  expect_a_waiter_held_off_until_the_holder_ends(*holder);
}

// The same file after kill -9 of buildlock alone: a shared lock, which needs only reading, shows
// that the command still holds the exclusive kernel lock (the pid alone would say "dead").
TEST_F(NfsLikeFs, LockFileWeMayNotWriteIsKeptByAKilledHoldersCommandThenReclaimed) {
  auto holder = hold();
  ASSERT_EQ(::chmod((dir + "/L.lock").c_str(), 0444), 0) << std::strerror(errno);
  expect_kept_by_the_command_of_a_killed_holder_then_reclaimed(*holder);
}

// A group's anchor we may not write: the joiner must hold it shared like every member, or the
// first member to leave would remove it under the joiner and let a writer in beside it.
TEST_F(NfsLikeFs, SharedRunJoiningAnAnchorWeMayNotWriteKeepsWritersOut) {
  auto first = hold({"--shared"});
  ASSERT_EQ(::chmod((dir + "/L.lock").c_str(), 0444), 0) << std::strerror(errno);
  auto second = hold({"--shared"});
  first->release.close_write();
  EXPECT_EQ(first->process->wait(10s), ExitStatus::exited(0)) << first->process->stderr_text();
  {
    Pipe ran;
    Finished finished = run(notifying_run(ran, {"--timeout", "0.2"}));
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
    EXPECT_TRUE(ran.ends_without_data(5s)) << "a writer ran beside a reader";
  }
  second->release.close_write();
  EXPECT_EQ(second->process->wait(10s), ExitStatus::exited(0)) << second->process->stderr_text();
  Pipe ran;
  Finished finished = run(notifying_run(ran, {"--timeout", "10"}));
  ran.close_write();
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(ran.receives_byte(5s));
  EXPECT_EQ(directory_entries(dir), std::vector<std::string>{});
}

// Observers now open lock files read-write: they must still change nothing, not even the time.
TEST_F(NfsLikeFs, StatusCleanAndBreakLeaveAHeldLockAlone) {
  auto holder = hold();
  const std::string path = dir + "/L.lock";
  const std::string content = read_file(path);
  const auto mtime = mtime_of(path);
  Finished status = run(manage("status", {"--json"}));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  EXPECT_NE(status.out.find("\"kernel-lock-held\""), std::string::npos) << status.out;
  Finished clean = run(manage("clean"));
  EXPECT_EQ(clean.status, ExitStatus::exited(0)) << clean.err;
  Finished broken = run(manage("break", {"L"}));
  EXPECT_EQ(broken.status, ExitStatus::exited(75)) << broken.err;
  EXPECT_TRUE(exists_no_follow(path)) << "a held lock was removed";
  EXPECT_EQ(read_file(path), content);
  EXPECT_EQ(mtime_of(path), mtime) << "looking at a lock changed its modification time";
  holder->release.close_write();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0)) << holder->process->stderr_text();
}

TEST_F(NfsLikeFs, StatusCleanAndBreakSeeAndRemoveStaleLocks) {
  for (const std::string lock : {"A", "B"}) {
    auto holder = hold({}, lock);
    holder->process->send_signal(SIGKILL);
    EXPECT_EQ(holder->process->wait(10s), ExitStatus::killed_by(SIGKILL));
    holder->release.close_write();
    EXPECT_TRUE(holder->command_is_gone());
  }
  Finished status = run(manage("status", {"--json"}));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  EXPECT_EQ(count_occurrences(status.out, "\"holder-dead\""), 2U) << status.out;
  Finished broken = run(manage("break", {"A"}));
  EXPECT_EQ(broken.status, ExitStatus::exited(0)) << broken.err;
  EXPECT_FALSE(exists_no_follow(dir + "/A.lock"));
  Finished clean = run(manage("clean"));
  EXPECT_EQ(clean.status, ExitStatus::exited(0)) << clean.err;
  EXPECT_EQ(directory_entries(dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test
