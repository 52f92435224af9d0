// A killed wrapper's command keeps its lock from its first instant to its last (issue 20): its
// processes carry the lock's mark in their environment and as an inherited descriptor
// (os/process_mark.h), and a waiter (or an etcd lease keeper) that finds the holder's buildlock
// dead looks for either.
//
// Forced, not hoped for: helpers/exec_hook, preloaded into buildlock, stops the command's first
// process right before its exec, where /proc still shows buildlock's own environment in it (no
// BUILDLOCK_HELD, no BUILDLOCK_ETCD_LEASES), and the test kills buildlock there. The chaos tests
// found this overlap by chance, a few times in a hundred runs. And a command that clears its
// environment (`env -i`) keeps the lock by its descriptor alone.
//
// For a lock directory without kernel locks (with them, the inherited descriptor's kernel lock
// decides, and did before the mark) and for etcd. Every setting is explicit: ordinary pass only.
#include "support/etcd_test.h"
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>
#include <string>
#include <type_traits>

namespace buildlock::test {
namespace {

const std::string exec_hook = EXEC_HOOK_LIBRARY;

std::vector<std::string> joined(std::vector<std::string> first,
                                const std::vector<std::string>& then) {
  first.insert(first.end(), then.begin(), then.end());
  return first;
}

// The scenarios, for a lock directory (Base = IntegrationTest) and for etcd (Base = EtcdTest).
// `options` are every run's options; an etcd hold gets its lease keeper ready before its
// buildlock is killed (else a loaded machine, not the keeper, would be tested).
template <class Base> class CommandMark : public Base {
protected:
  std::vector<std::string> options;

  void wait_for_keeper() const {
    if constexpr (std::is_base_of_v<EtcdTest, Base>) {
      ASSERT_TRUE(this->keeper_is_ready("L"));
    }
  }

  // A run that waits `timeout` seconds at most is refused (exit 75), and its command did not run.
  void expect_refused(const std::string& when, const std::string& timeout = "0") const {
    const std::string ran = this->temp / "ran";
    Finished refused =
        run(this->run_under_lock("L", {"sh", "-c", ": > '" + ran + "'"},
                                 joined(options, {"--timeout", timeout, "--verbose"})),
            workload_bound(std::chrono::seconds(std::stoi(timeout) + 10)));
    EXPECT_EQ(refused.status, ExitStatus::exited(75)) << when << ":\n" << refused.err;
    EXPECT_FALSE(exists_no_follow(ran)) << when << ": a second run ran beside the command";
  }

  // Once the command has ended, the next run gets the lock.
  void expect_free_after(Holding& holder) const {
    holder.let_go();
    EXPECT_TRUE(holder.started.ends_without_data(10s)) << "the command did not end";
    Finished next =
        run(this->run_under_lock("L", this->scripted({}), joined(options, {"--timeout", "10"})));
    EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  }

  void killed_before_its_commands_exec() {
    Pipe paused; // the command's first process, stopped before its exec
    Pipe resume;
    auto holder = this->start_holding(
        "L", options, {},
        [&](Command& command) {
          command.stop_in_hook(exec_hook, "EXEC_HOOK", "/scripted_command", paused, resume);
        },
        false);
    paused.close_write();
    resume.close_read();
    ASSERT_TRUE(paused.receives_byte(10s))
        << "the command never came to its exec: " << holder->process->stderr_text();
    wait_for_keeper();
    holder->process->send_signal(SIGKILL); // buildlock only
    EXPECT_TRUE(holder->process->wait(10s).signaled);

    expect_refused("buildlock killed before its command's exec");
    resume.write_byte(); // the exec goes on: the command runs
    ASSERT_TRUE(holder->started.receives_byte(10s)) << "the command did not start";
    expect_refused("the command started after its buildlock was killed");
    expect_free_after(*holder);
  }

  // `waiter_timeout`: how long the run that must be refused waits.
  void command_without_environment(const std::string& waiter_timeout = "0") {
    Holding holder;
    Command command = this->run_under_lock(
        "L", joined({"env", "-i"}, this->scripted({"notify", "3", "wait", "4"})), options);
    command.pass_fd(3, holder.started.write_fd()).pass_fd(4, holder.release.read_fd());
    holder.process.emplace(command.start());
    holder.started.close_write();
    holder.release.close_read();
    ASSERT_TRUE(holder.started.receives_byte(10s)) << holder.process->stderr_text();
    wait_for_keeper();
    holder.process->send_signal(SIGKILL); // buildlock only: its command runs on
    EXPECT_TRUE(holder.process->wait(10s).signaled);

    expect_refused("a command without BUILDLOCK_* variables, its buildlock killed", waiter_timeout);
    expect_free_after(holder);
  }
};

class DirectoryCommandMark : public CommandMark<IntegrationTest> {
protected:
  DirectoryCommandMark() { options = {"--kernel-locks", "off"}; }
};

class EtcdCommandMark : public CommandMark<EtcdTest> {
protected:
  // Long enough that the lease cannot run out while the command's first process is stopped and
  // nobody renews it (its keeper takes over only once the exec closed buildlock's pipe to it).
  EtcdCommandMark() { options = {"--stale-after", "60"}; }
};

TEST_F(DirectoryCommandMark, BuildlockKilledBeforeItsCommandsExecLeavesTheLockToTheCommand) {
  killed_before_its_commands_exec();
}

TEST_F(EtcdCommandMark, BuildlockKilledBeforeItsCommandsExecLeavesTheLockToTheCommand) {
  killed_before_its_commands_exec();
}

TEST_F(DirectoryCommandMark, ACommandThatClearedItsEnvironmentKeepsTheLockByItsDescriptor) {
  command_without_environment();
}

// The lease keeper finds such a command too: it renews the lease past its TTL (5 s here, as in
// etcd_run_test's KilledWrapperWhoseCommandRunsKeepsTheLock), which a run that waits longer than
// the TTL and is refused proves.
TEST_F(EtcdCommandMark, ACommandThatClearedItsEnvironmentKeepsTheLockByItsDescriptor) {
  options = {"--stale-after", "5"};
  command_without_environment("8");
}

} // namespace
} // namespace buildlock::test
