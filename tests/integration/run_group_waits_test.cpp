// Waits of shared and slotted runs (issue 13, findings 7 and 9): a waiting buildlock dies
// promptly by SIGINT, SIGTERM or SIGHUP in every wait, releasing what it holds, and a group it
// cannot read (a newer version's anchor) is waited for in the kernel, not by spinning.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace buildlock::test {
namespace {

// The system call `pid` is blocked in (first field of /proc/PID/syscall), -1 if running or gone.
long blocked_in_syscall(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/syscall");
  long number = -1;
  if (!(file >> number)) {
    return -1;
  }
  return number;
}

// Waits (bounded) until `pid` is seen asleep in flock(2).
bool eventually_blocked_in_flock(pid_t pid, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (blocked_in_syscall(pid) == SYS_flock) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// Entries created in `directory` during `window`.
int entries_created_during(const std::string& directory, milliseconds window) {
  const int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  EXPECT_GE(watch, 0);
  EXPECT_GE(::inotify_add_watch(watch, directory.c_str(), IN_CREATE), 0);
  int created = 0;
  const auto deadline = Clock::now() + window;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    pollfd entry{watch, POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now).count();
    if (::poll(&entry, 1, static_cast<int>(left)) <= 0) {
      continue;
    }
    alignas(inotify_event) char buffer[4096];
    for (ssize_t n = ::read(watch, buffer, sizeof buffer); n > 0;
         n = ::read(watch, buffer, sizeof buffer)) {
      for (ssize_t offset = 0; offset < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
        ++created;
        offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
  }
  ::close(watch);
  return created;
}

using RunGroupWaits = IntegrationTest;

// A group anchor whose metadata this version cannot read (a newer version's), held shared by a
// live member: a --shared or --slots run cannot join what it cannot read, and must sleep in the
// kernel until the group has ended, not create and delete a temporary file in a loop.
TEST_F(RunGroupWaits, UnreadableGroupIsWaitedForInTheKernel) {
  for (const std::vector<std::string>& mode :
       {std::vector<std::string>{"--shared"}, std::vector<std::string>{"--slots", "2"}}) {
    make_lock_dir();
    HolderMetadata newer = as_shared(metadata_for_local_process(::getpid()));
    newer.version = 3;
    write_lock_file(lock_path("L"), to_json(newer) + "\n");
    HeldFileLock member(lock_path("L"), HeldFileLock::Mode::shared);

    std::vector<std::string> options = mode;
    options.insert(options.end(), {"--kernel-locks", "auto", "--stale-after", "1"});
    Process joiner = run_under_lock("L", {"sh", "-c", "true"}, options).start();
    ASSERT_TRUE(eventually_blocked_in_flock(joiner.pid(), 10s)) << joiner.stderr_text();
    EXPECT_LE(entries_created_during(lock_dir, 500ms), 1)
        << "the joiner keeps creating temporary files instead of sleeping";
    EXPECT_EQ(blocked_in_syscall(joiner.pid()), SYS_flock);

    // The group ends: the anchor, whose holder nobody can name, is then reclaimed by its age.
    member.release();
    EXPECT_EQ(joiner.wait(10s), ExitStatus::exited(0)) << joiner.stderr_text();
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
  }
}

// An exclusive run that got NAME.lock waits for the members of a group without kernel locks that
// just ended (docs/protocol.md, "Without kernel locks"); it already holds the lock then, so
// signals are recorded rather than fatal, and must still end it at once.
TEST_F(RunGroupWaits, SignalEndsTheWaitForTheLastMembersAndReleases) {
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
    make_lock_dir();
    // A member of that group, alive (this test process), that keeps no kernel lock.
    HolderMetadata member = as_shared(metadata_for_local_process(::getpid()));
    std::string json = to_json(member);
    json.insert(1, "\"kernel_lock\":false,");
    const std::string member_file = lock_dir + "/L.lock+shared.0123456789abcdef";
    write_lock_file(member_file, json + "\n");

    Process writer =
        run_under_lock("L", {"sh", "-c", "echo ran"}, {"--kernel-locks", "off", "--verbose"})
            .start();
    ASSERT_TRUE(file_eventually_contains(writer.stderr_path(), "the last members of a group", 10s))
        << writer.stderr_text();
    writer.send_signal(signal);
    EXPECT_EQ(writer.wait(10s), ExitStatus::killed_by(signal)) << writer.stderr_text();
    EXPECT_EQ(writer.stdout_text(), "") << "the command ran";
    EXPECT_EQ(directory_entries(lock_dir),
              std::vector<std::string>{"L.lock+shared.0123456789abcdef"})
        << "the lock was not released";
    ASSERT_EQ(::unlink(member_file.c_str()), 0);
  }
}

} // namespace
} // namespace buildlock::test
