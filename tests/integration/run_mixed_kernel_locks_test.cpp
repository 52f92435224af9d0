// Runs with `--kernel-locks off` and `auto` on one lock directory (issue 13, finding 2): a
// member of a group that holds no kernel lock on the anchor still keeps an exclusive run out,
// and an observer without kernel locks never robs a killed wrapper's command that still holds
// the kernel lock. Every setting is given explicitly, so this file runs in the ordinary pass only.
#include "support/another_host.h"
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/skip_or_fail.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace buildlock::test {
namespace {

const std::vector<std::string>& off = kernel_locks_off_setting;
const std::vector<std::string>& automatic = kernel_locks_auto_setting;

class RunMixedKernelLocks : public IntegrationTest {
protected:
  // Like start_holding(), with `prefix` in front of buildlock (to run it as "another host").
  std::unique_ptr<Holding> start_holding_via(const std::vector<std::string>& prefix,
                                             const std::vector<std::string>& options) const {
    auto holding = std::make_unique<Holding>();
    std::vector<std::string> argv = prefix;
    argv.push_back(buildlock_binary());
    for (auto& word : run_arguments("L", scripted({"notify", "3", "wait", "4"}), options)) {
      argv.push_back(std::move(word));
    }
    holding->process.emplace(program(argv)
                                 .pass_fd(3, holding->started.write_fd())
                                 .pass_fd(4, holding->release.read_fd())
                                 .start());
    holding->started.close_write();
    holding->release.close_read();
    EXPECT_TRUE(holding->started.receives_byte(10s)) << holding->process->stderr_text();
    return holding;
  }

  // The member without kernel locks is in; the last member with them leaves: no exclusive run
  // may start until the member without them has left too.
  void expect_group_lasts_for_its_member_without_kernel_locks(Holding& without) {
    for (const auto& setting : {automatic, off}) {
      Finished writer = run(run_under_lock("L", {"true"}, with({"--timeout", "0"}, setting)));
      EXPECT_EQ(writer.status, ExitStatus::exited(75)) << writer.err;
    }
    without.let_go();
    EXPECT_EQ(without.process->wait(10s), ExitStatus::exited(0)) << without.process->stderr_text();
    Finished writer = run(run_under_lock("L", {"true"}, with({"--timeout", "10"}, automatic)));
    EXPECT_EQ(writer.status, ExitStatus::exited(0)) << writer.err;
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
  }
};

TEST_F(RunMixedKernelLocks, ReaderWithoutKernelLocksKeepsAnExclusiveRunOut) {
  auto with_kernel_locks = start_holding("L", with({"--shared"}, automatic));
  auto without = start_holding("L", with({"--shared"}, off));
  with_kernel_locks->let_go();
  EXPECT_EQ(with_kernel_locks->process->wait(10s), ExitStatus::exited(0))
      << with_kernel_locks->process->stderr_text();
  expect_group_lasts_for_its_member_without_kernel_locks(*without);
}

// The same with the reader on "another host": its own boot id (bind-mounted over
// /proc/sys/kernel/random/boot_id in a private mount namespace), so that it does not even try
// the kernel lock of the anchor, and the others judge its holder file by its heartbeat.
TEST_F(RunMixedKernelLocks, ReaderOfAnotherHostWithoutKernelLocksKeepsAnExclusiveRunOut) {
  const AnotherHost other_host = another_host(temp.path());
  if (!other_host.why_not.empty()) {
    SKIP_OR_FAIL_IN_CI(other_host.why_not);
  }

  auto with_kernel_locks = start_holding("L", with({"--shared"}, automatic));
  auto without = start_holding_via(other_host.prefix, with({"--shared"}, off));
  with_kernel_locks->let_go();
  EXPECT_EQ(with_kernel_locks->process->wait(10s), ExitStatus::exited(0))
      << with_kernel_locks->process->stderr_text();
  expect_group_lasts_for_its_member_without_kernel_locks(*without);
}

// buildlock killed with SIGKILL while its command runs: the command keeps the kernel lock, and
// an observer without kernel locks of its own asks that lock rather than the dead pid.
TEST_F(RunMixedKernelLocks, ObserverWithoutKernelLocksWaitsForAKilledWrappersCommand) {
  for (const std::vector<std::string>& mode :
       {std::vector<std::string>{}, std::vector<std::string>{"--shared"}}) {
    auto holder = start_holding("L", with(mode, automatic));
    holder->process->send_signal(SIGKILL);
    EXPECT_EQ(holder->process->wait(10s), ExitStatus::killed_by(SIGKILL));

    Finished robber =
        run(run_under_lock("L", {"true"}, with({"--timeout", "0", "--verbose"}, off)));
    EXPECT_EQ(robber.status, ExitStatus::exited(75)) << robber.err;
    EXPECT_NE(robber.err.find("[kernel-lock-held]"), std::string::npos) << robber.err;

    holder->let_go(); // the command ends: now nobody holds the lock
    ASSERT_EQ(holder->started.read_to_end(10s), std::string());
    Finished next = run(run_under_lock("L", {"true"}, with({"--timeout", "10"}, off)));
    EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
  }
}

// Readers and writers of both settings on one lock, checked from inside the critical sections.
TEST_F(RunMixedKernelLocks, ReadersAndWritersOfBothSettingsNeverOverlapAWriter) {
  const std::string work_dir = temp / "work";
  const std::string log = temp / "sections.log";
  ASSERT_EQ(::mkdir(work_dir.c_str(), 0755), 0);
  auto loop = [&](const std::string& kind, std::vector<std::string> options) {
    std::vector<std::string> argv = {
        "sh", "-c", R"(i=0; while [ "$i" -lt "$0" ]; do "$@" || exit $?; i=$((i+1)); done)", "30",
        buildlock_binary()};
    options.emplace_back("--quiet");
    for (auto& word :
         run_arguments("L", {group_section_binary(), kind, work_dir, log}, std::move(options))) {
      argv.push_back(std::move(word));
    }
    return program(argv).start();
  };
  std::vector<Process> processes;
  for (const auto& setting : {automatic, off}) {
    for (int i = 0; i < 2; ++i) {
      processes.push_back(loop("reader", with({"--shared"}, setting)));
    }
    processes.push_back(loop("writer", setting));
  }
  for (Process& process : processes) {
    EXPECT_EQ(process.wait(120s), ExitStatus::exited(0)) << process.stderr_text();
  }
  const std::string entries = read_file(log);
  EXPECT_EQ(lines_of(entries).size(), 6U * 30U);
  EXPECT_EQ(count_occurrences(entries, " violation "), 0U) << entries;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

} // namespace
} // namespace buildlock::test
