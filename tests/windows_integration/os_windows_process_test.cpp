// The Windows implementations of os/child_process.h and os/process_identity.h, called directly:
// what the tests of buildlock.exe cannot isolate (how an argument survives the command line, the
// tolerance of boot ids, the creation time that tells a reused pid).
#include "os/child_process.h"
#include "os/clock.h"
#include "os/process_identity.h"
#include "os/signals.h"
#include "support/windows_process.h"

#include <gtest/gtest.h>

namespace buildlock::windows_test {
namespace {

// Runs tree_command.exe `args` through os::ChildProcess and returns what it received.
std::vector<std::string> arguments_received(const TestDirectory& dir,
                                            const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {tree_command_exe(), "args", dir.file("args.txt")};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  auto child = os::ChildProcess::spawn(argv, {}, false);
  EXPECT_TRUE(child.ok()) << (child.ok() ? "" : child.error().message);
  std::optional<os::ExitStatus> status;
  while (child.ok() && !(status = child->poll())) {
    Sleep(5);
  }
  EXPECT_EQ(status->code, 0);
  std::vector<std::string> received;
  const std::string text = read_file(dir.file("args.txt"));
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t colon = text.find(':', at);
    const std::size_t length = std::stoul(text.substr(at, colon - at));
    received.push_back(text.substr(colon + 1, length));
    at = colon + 1 + length + 1;
  }
  return received;
}

// CommandLineToArgvW's rules: backslashes are literal except before a quote.
TEST(ChildProcessWindows, ArgumentsArriveByteForByte) {
  TestDirectory dir;
  const std::vector<std::string> arguments = {"plain",
                                              "with space",
                                              "",
                                              "quote\"inside",
                                              "trailing\\",
                                              "two\\\\",
                                              "backslashes\\\\\"then quote",
                                              "tab\there",
                                              "C:\\Program Files\\x\\",
                                              "\"quoted\""};
  EXPECT_EQ(arguments_received(dir, arguments), arguments);
}

TEST(ChildProcessWindows, EnvironmentOverridesReachTheCommand) {
  TestDirectory dir;
  SetEnvironmentVariableA("BUILDLOCK_TEST_VALUE", "inherited");
  auto child = os::ChildProcess::spawn(
      {tree_command_exe(), "env", dir.file("env.txt"), "BUILDLOCK_TEST_VALUE"},
      {{"buildlock_test_value", "given"}}, false); // names are case-insensitive on Windows
  SetEnvironmentVariableA("BUILDLOCK_TEST_VALUE", nullptr);
  ASSERT_TRUE(child.ok()) << child.error().message;
  while (!child->poll()) {
    Sleep(5);
  }
  EXPECT_EQ(read_file(dir.file("env.txt")), "given");
}

TEST(ChildProcessWindows, MissingCommandIsNotFound) {
  auto child = os::ChildProcess::spawn({"no-such-program-anywhere.exe"}, {}, false);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error().kind, ErrorKind::command_not_found) << child.error().message;
}

// buildlock's supervision polls the command, then waits for a signal or the command's exit. An
// exit in between must still end that wait, as SIGCHLD's self-pipe does on POSIX; it once slept
// until the next heartbeat, so buildlock.exe outlived a Ctrl+C'd command by 30 s. No signal comes
// here, so a wait that ends before its deadline was ended by the exit: that is the proof, not a
// duration (issue 20: the name said "at once" and the check was "within 30 s").
TEST(ChildProcessWindows, AnExitNoPollHasSeenEndsTheWaitBeforeItsDeadline) {
  using namespace std::chrono_literals;
  os::SignalHandling signals;
  auto child = os::ChildProcess::spawn(exit_command(3), {}, false);
  ASSERT_TRUE(child.ok()) << child.error().message;
  const ProcessGuard exited(static_cast<DWORD>(child->pid()));
  ASSERT_TRUE(exited.wait_until_gone(exit_bound));

  const os::TimePoint deadline = os::monotonic_now() + 60s;
  signals.wait_for_signal(deadline);
  EXPECT_TRUE(os::monotonic_now() < deadline)
      << "slept until its deadline: the exit did not end it";

  // Once seen, the exit wakes nothing: a wait lasts until its deadline instead of spinning.
  const std::optional<os::ExitStatus> status = child->poll();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code, 3);
  const auto started = std::chrono::steady_clock::now();
  signals.wait_for_signal(os::monotonic_now() + 200ms);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
}

TEST(ProcessIdentityWindows, ThisProcessIsAliveWithItsCreationTime) {
  const auto& local = os::local_identity();
  ASSERT_TRUE(local.start_time.has_value());
  const os::PidProbe probe = os::probe_pid(local.pid);
  EXPECT_EQ(probe.state, os::PidState::alive);
  EXPECT_EQ(probe.start_time, local.start_time);
  EXPECT_EQ(local.uid, -1); // SIDs, not numbers: nothing recorded
}

TEST(ProcessIdentityWindows, AnExitedChildIsDead) {
  auto child = os::ChildProcess::spawn(exit_command(0), {}, false);
  ASSERT_TRUE(child.ok()) << child.error().message;
  const ProcessGuard guard(static_cast<DWORD>(child->pid())); // keeps the pid from reuse
  while (!child->poll()) {
    Sleep(5);
  }
  EXPECT_EQ(os::probe_pid(child->pid()).state, os::PidState::dead);
}

TEST(ProcessIdentityWindows, BootIdsWithinTheToleranceAreOneBoot) {
  const std::string& boot = os::local_identity().boot_id;
  ASSERT_EQ(boot.rfind("windows-boot-ms:", 0), 0u) << boot;
  const long long ms = std::stoll(boot.substr(boot.find(':') + 1));
  auto id = [](long long value) {
    return "windows-boot-ms:" + std::to_string(value);
  };
  EXPECT_TRUE(os::same_boot(boot, boot));
  EXPECT_TRUE(os::same_boot(boot, id(ms + 2'000))); // the clock was adjusted a little
  EXPECT_TRUE(os::same_boot(boot, id(ms - 30'000)));
  EXPECT_FALSE(os::same_boot(boot, id(ms - 30'001))); // another boot
  EXPECT_FALSE(os::same_boot(boot, id(ms + 3'600'000)));
  EXPECT_FALSE(os::same_boot(boot, ""));
  EXPECT_FALSE(os::same_boot("", ""));
  EXPECT_FALSE(os::same_boot(boot, "0b6a7c9e-linux-boot-id"));
}

} // namespace
} // namespace buildlock::windows_test
