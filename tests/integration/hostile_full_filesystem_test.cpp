// A lock directory on a full filesystem, one without free inodes, and a read-only one (issue 8):
// a small tmpfs mounted in a private mount namespace of this test process (the processes it
// starts inherit it; nothing is visible outside; without root, inside a user namespace). buildlock
// stops with exit 74 and one line naming the system's reason, leaves no temporary file behind, and
// can still look at and clean up locks; a holder whose filesystem fills up releases normally.
#include "hostile_test_support.h"
#include "support/skip_or_fail.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

// Writes `text` to a /proc file (the maps of a new user namespace).
bool write_proc_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written;
}

// Gives this process a mount namespace of its own: directly with CAP_SYS_ADMIN (root), else
// inside a new user namespace in which this user is root (where unprivileged user namespaces are
// allowed). Returns why neither worked, or "" on success.
std::string enter_private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) == 0) {
    return "";
  }
  const std::string direct = std::strerror(errno);
  const std::string uid = std::to_string(::geteuid());
  const std::string gid = std::to_string(::getegid());
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    return "unshare(CLONE_NEWNS): " + direct +
           "; unshare(CLONE_NEWUSER | CLONE_NEWNS): " + std::strerror(errno);
  }
  if (!write_proc_file("/proc/self/setgroups", "deny") ||
      !write_proc_file("/proc/self/uid_map", "0 " + uid + " 1") ||
      !write_proc_file("/proc/self/gid_map", "0 " + gid + " 1")) {
    return std::string("mapping this user in a new user namespace: ") + std::strerror(errno);
  }
  return "";
}

class HostileFilesystem : public HostileInputTest {
protected:
  void SetUp() override {
    HostileInputTest::SetUp();
    if (const std::string why = enter_private_mount_namespace(); !why.empty()) {
      SKIP_OR_FAIL_IN_CI("cannot make a private mount namespace for a small tmpfs (" + why +
                         "; needs root, CAP_SYS_ADMIN or unprivileged user namespaces)");
    }
    // Private from here on: the tmpfs must not propagate to the rest of the system.
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
        << std::strerror(errno);
    ASSERT_EQ(::mkdir(mount_point.c_str(), 0755), 0);
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=64k,nr_inodes=16,mode=0755") != 0) {
      SKIP_OR_FAIL_IN_CI(
          std::string("cannot mount a tmpfs in the private mount namespace (mount: ") +
          std::strerror(errno) + ")");
    }
    mounted_ = true;
    ASSERT_EQ(::mkdir(locks.c_str(), 0755), 0);
    write_file(mount_point + "/sentinel.txt", "on the same filesystem\n");
  }

  void TearDown() override {
    HostileInputTest::TearDown();
    if (mounted_) {
      ::umount2(mount_point.c_str(), MNT_DETACH);
    }
  }

  // Fills every data block with one file.
  void fill_blocks() const {
    const int fd = ::open((mount_point + "/filler").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    const std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    EXPECT_EQ(errno, ENOSPC);
    ::close(fd);
  }

  // Uses up every inode with empty files.
  void fill_inodes() const {
    for (int i = 0;; ++i) {
      const std::string path = mount_point + "/inode-" + std::to_string(i);
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd < 0) {
        ASSERT_EQ(errno, ENOSPC) << std::strerror(errno);
        return;
      }
      ::close(fd);
    }
  }

  // `buildlock run --dir DIR OPTIONS... LOCK -- scripted_command STEPS...`
  Command run_in(const std::string& directory, const std::vector<std::string>& steps,
                 const std::vector<std::string>& options = {}) const {
    std::vector<std::string> arguments = {"run", "--dir", directory};
    arguments.insert(arguments.end(), options.begin(), options.end());
    arguments.insert(arguments.end(), {"L", "--"});
    for (const std::string& word : scripted(steps)) {
      arguments.push_back(word);
    }
    return buildlock(arguments);
  }

  // Runs `run --dir DIR L -- notify` and expects exit 74, one error line starting `start` and
  // ending with the system's `reason`, and a command that never ran.
  void expect_run_refused(const std::string& directory, const std::string& start,
                          const std::string& reason) const {
    Pipe ran;
    Command command = run_in(directory, {"notify", "3"});
    command.pass_fd(3, ran.write_fd());
    Finished refused = run(command);
    ran.close_write();
    EXPECT_EQ(refused.status, ExitStatus::exited(74)) << refused.err;
    EXPECT_TRUE(is_one_error_line(refused.err, start));
    EXPECT_TRUE(
        refused.err.ends_with(": " + reason + " (use another with --dir or BUILDLOCK_DIR)\n"))
        << refused.err;
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";
  }

  Command manage_in(const std::string& subcommand, std::vector<std::string> arguments) const {
    arguments.insert(arguments.begin(), {subcommand, "--dir", locks});
    return buildlock(std::move(arguments));
  }

  const std::string mount_point = temp / "fs";
  const std::string locks = mount_point + "/locks";

private:
  bool mounted_ = false;
};

TEST_F(HostileFilesystem, FullRefusesRunWithExit74AndStillCleansUp) {
  write_lock_file(locks + "/dead.lock", to_json(dead_holder()));
  fill_blocks();
  freeze_outside(locks);

  expect_run_refused(locks, "lock directory `" + locks + "`: cannot write `" + locks + "/.L.",
                     "write: No space left on device");
  EXPECT_EQ(directory_entries(locks), std::vector<std::string>{"dead.lock"})
      << "a temporary file was left behind";

  Finished status = run(manage_in("status", {"--json"}));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  EXPECT_NE(status.out.find("\"holder-dead\""), std::string::npos) << status.out;
  Finished cleaned = run(manage_in("clean", {"--json"}));
  EXPECT_EQ(cleaned.status, ExitStatus::exited(0)) << cleaned.err;
  EXPECT_EQ(directory_entries(locks), std::vector<std::string>{});
}

TEST_F(HostileFilesystem, WithoutFreeInodesRefusesRunWithExit74) {
  fill_inodes();
  freeze_outside(locks);
  expect_run_refused(locks, "lock directory `" + locks + "`: cannot create `" + locks + "/.L.",
                     "No space left on device");
  EXPECT_EQ(directory_entries(locks), std::vector<std::string>{});
}

TEST_F(HostileFilesystem, MissingLockDirectoryWithoutFreeInodesIsNotCreated) {
  fill_inodes();
  const std::string missing = mount_point + "/missing";
  freeze_outside(missing);
  expect_run_refused(missing,
                     "lock directory `" + missing + "`: cannot create directory `" + missing + "`",
                     "No space left on device");
  EXPECT_FALSE(exists_no_follow(missing));
}

// The build under the lock fills the disk: the heartbeat and the release need no space, so the
// lock is released as usual and nothing is left to wedge the next build.
TEST_F(HostileFilesystem, HolderReleasesNormallyWhenTheFilesystemFillsUp) {
  LiveHolder holder(run_in(locks, {"notify", "3", "wait", "4"}, {"--stale-after", "1"}), "L");
  fill_blocks();
  freeze_outside(locks);
  std::string err;
  EXPECT_EQ(holder.release(&err), ExitStatus::exited(0));
  EXPECT_EQ(err, "");
  EXPECT_EQ(directory_entries(locks), std::vector<std::string>{});
}

TEST_F(HostileFilesystem, ReadOnlyRefusesRunAndRemovalsWithExit74) {
  write_lock_file(locks + "/dead.lock", to_json(dead_holder()));
  ASSERT_EQ(::mount(nullptr, mount_point.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);
  freeze_outside(locks);

  expect_run_refused(locks, "lock directory `" + locks + "`: cannot create `" + locks + "/.L.",
                     "Read-only file system");
  Finished status = run(manage_in("status", {"--json"}));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  EXPECT_NE(status.out.find("\"holder-dead\""), std::string::npos) << status.out;
  Finished cleaned = run(manage_in("clean", {}));
  EXPECT_EQ(cleaned.status, ExitStatus::exited(74)) << cleaned.err;
  EXPECT_TRUE(is_one_error_line(cleaned.err, "cannot remove stale `" + locks + "/dead.lock`: "));
  Finished broken = run(manage_in("break", {"dead"}));
  EXPECT_EQ(broken.status, ExitStatus::exited(74)) << broken.err;
  EXPECT_TRUE(is_one_error_line(broken.err, "cannot break lock `dead`: "));
  EXPECT_TRUE(broken.err.ends_with(": Read-only file system\n")) << broken.err;
  EXPECT_EQ(directory_entries(locks), std::vector<std::string>{"dead.lock"});
}

} // namespace
} // namespace buildlock::test
