// Waits of shared and slotted runs (issue 13, findings 7 and 9): a waiting buildlock dies
// promptly by SIGINT, SIGTERM or SIGHUP in every wait, releasing what it holds, and a group it
// cannot read (a newer version's anchor) is waited for in the kernel, not by spinning.
#include "common/proc_locks.h"
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
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

// The kernel locks (/proc/locks) that process `pid` holds, not waits for, on the file at `path`.
int kernel_locks_held_on(const std::string& path, pid_t pid) {
  struct stat file {};
  if (::stat(path.c_str(), &file) != 0) {
    return 0;
  }
  int held = 0;
  for (const ProcLock& lock : read_proc_locks()) {
    held += !lock.blocked && lock.pid == pid && lock.inode == file.st_ino;
  }
  return held;
}

// Waits (bounded) until `pid` is stopped (state T in /proc/PID/stat).
bool eventually_stopped(pid_t pid, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    if (const auto end = text.rfind(')');
        end != std::string::npos && text.size() > end + 2 && text[end + 2] == 'T') {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

using RunGroupWaits = IntegrationTest;

// Lock order (the chaos suite's second "known wedge", caught by its kernel view): an exclusive
// run that inspects a group's anchor takes the anchor's kernel lock exclusively to test it. It
// must let go of it before it queues as a writer: a queued writer holds NAME.lock+writer and
// sleeps on the anchor, so an inspector that blocked on the writer file while keeping the anchor
// deadlocked with it. Forced here: the queued writer is stopped while the anchor's share is let
// go (so the second run's test of the anchor succeeds), a member without a kernel lock on the
// anchor keeps the group alive, and the second run queues behind the writer.
TEST_F(RunGroupWaits, ExclusiveRunQueuesBehindTheWriterWithoutHoldingTheAnchor) {
  make_lock_dir();
  const HolderMetadata member = as_shared(metadata_for_local_process(::getpid()));
  write_lock_file(lock_path("L"), to_json(member) + "\n");
  const std::string member_file = lock_dir + "/L.lock+shared.0123456789abcdef";
  write_lock_file(member_file, to_json(member) + "\n");
  HeldFileLock member_lock(member_file, HeldFileLock::Mode::exclusive);
  HeldFileLock anchor_share(lock_path("L"), HeldFileLock::Mode::shared);

  auto writer = start_holding("L", {}, {}, nullptr, false);
  ASSERT_TRUE(is_asleep_in_flock(writer->pid(), 1, 10s)) << writer->process->stderr_text();
  ASSERT_TRUE(exists_no_follow(lock_path("L") + "+writer"));
  ASSERT_EQ(::kill(writer->pid(), SIGSTOP), 0);
  ASSERT_TRUE(eventually_stopped(writer->pid(), 10s));
  anchor_share.release(); // free, but the stopped writer cannot take it

  auto second = start_holding("L", {}, {}, nullptr, false);
  ASSERT_TRUE(is_asleep_in_flock(second->pid(), 1, 10s)) << second->process->stderr_text();
  EXPECT_EQ(kernel_locks_held_on(lock_path("L"), second->pid()), 0)
      << "asleep on the writer file while holding the anchor";

  ASSERT_EQ(::kill(writer->pid(), SIGCONT), 0);
  member_lock.release();
  ASSERT_EQ(::unlink(member_file.c_str()), 0); // the group has ended
  ASSERT_TRUE(writer->started.receives_byte(20s))
      << "deadlocked: " << writer->process->stderr_text();
  writer->let_go();
  EXPECT_EQ(writer->process->wait(10s), ExitStatus::exited(0)) << writer->process->stderr_text();
  ASSERT_TRUE(second->started.receives_byte(20s)) << second->process->stderr_text();
  second->let_go();
  EXPECT_EQ(second->process->wait(10s), ExitStatus::exited(0)) << second->process->stderr_text();
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

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

// A slotted waiter tests each slot's kernel lock exclusively; a slot whose holder keeps none (a
// run with --kernel-locks off, judged by its pid) must not stay locked by the waiter while it
// sleeps: another waiter would take that lock for the holder's, say "its kernel lock is held",
// and sleep on it.
TEST_F(RunGroupWaits, SlottedWaiterKeepsNoKernelLockOnSlotsJudgedByPid) {
  make_lock_dir();
  std::string json = to_json(as_slots(metadata_for_local_process(::getpid()), 2));
  json.insert(1, "\"kernel_lock\":false,");
  for (const int slot : {1, 2}) {
    write_lock_file(lock_dir + "/L.lock+slot." + std::to_string(slot), json + "\n");
  }
  Process waiter =
      run_under_lock("L", {"sh", "-c", "echo ran"}, {"--slots", "2", "--verbose"}).start();
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "waiting for a slot", 10s))
      << waiter.stderr_text();
  // Looked at while it sleeps: between two looks (it polls) it tests each slot's kernel lock for
  // an instant, which a look that overlaps one may see. A look during which none of its threads
  // ran shows what it keeps while asleep.
  bool looked_while_asleep = false;
  for (const auto give_up = Clock::now() + 10s; !looked_while_asleep && Clock::now() < give_up;) {
    const Activity before = activity_of(waiter.pid());
    std::vector<int> held;
    for (const int slot : {1, 2}) {
      held.push_back(
          kernel_locks_held_on(lock_dir + "/L.lock+slot." + std::to_string(slot), waiter.pid()));
    }
    if (activity_of(waiter.pid()) == before) {
      looked_while_asleep = true;
      EXPECT_EQ(held, (std::vector<int>{0, 0})) << "kernel locks kept on slots 1 and 2";
    }
  }
  EXPECT_TRUE(looked_while_asleep) << "the waiter never slept through a look";
  ASSERT_EQ(::unlink((lock_dir + "/L.lock+slot.2").c_str()), 0);
  EXPECT_EQ(waiter.wait(20s), ExitStatus::exited(0)) << waiter.stderr_text();
  EXPECT_EQ(waiter.stdout_text(), "ran\n");
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
