// A descendant whose main thread called pthread_exit() while another thread runs (issue 20,
// finding 3). /proc shows it as a zombie, but it runs: buildlock must count it as live, signal
// it when the tree is stopped, and keep the lock until it has really ended. Before the fix it
// was never signalled and waitpid() kept seeing it: buildlock waited forever with the lock held.
//
// Every command is a tree: `sh -c 'main_thread_exit STEPS & wait'`, the shell being the
// command's main process. Each process of the tree holds the write end of `gone`, so end-of-file
// there says that all have exited; the lingering process says on `started` that its main thread
// is gone and it runs on.
#include "support/integration_test.h"
#include "support/lock_files.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace buildlock::test {
namespace {

struct Tree {
  Pipe started;
  Pipe release;
  Pipe trapped;
  Pipe gone;
  Pipe go_on; // the shell's descriptor 7, for a shell that waits for the test
  std::optional<Process> process;
};

class RunMainThreadExit : public IntegrationTest {
protected:
  // `sh -c '<main_thread_exit> STEPS <shell_operator> <shell_tail>'` under buildlock.
  std::unique_ptr<Tree> start_tree(const std::vector<std::string>& steps,
                                   const std::string& shell_tail = " & wait",
                                   std::vector<std::string> options = {}) {
    auto tree = std::make_unique<Tree>();
    std::string script = "'" + main_thread_exit_binary() + "'";
    for (const std::string& step : steps) {
      script += " " + step;
    }
    Command command = run_under_lock("L", {"sh", "-c", script + shell_tail}, std::move(options));
    command.pass_fd(3, tree->started.write_fd())
        .pass_fd(4, tree->release.read_fd())
        .pass_fd(5, tree->trapped.write_fd())
        .pass_fd(6, tree->gone.write_fd())
        .pass_fd(7, tree->go_on.read_fd());
    tree->process.emplace(command.start());
    tree->started.close_write();
    tree->release.close_read();
    tree->trapped.close_write();
    tree->gone.close_write();
    tree->go_on.close_read();
    EXPECT_TRUE(tree->started.receives_byte(10s)) << tree->process->stderr_text();
    return tree;
  }
};

// A child of `parent` in any state (support's child_of() passes zombies over, and the process
// these tests build looks like one).
std::optional<pid_t> any_child_of(pid_t parent) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream file(entry.path() / "stat");
    std::string line;
    if (!std::getline(file, line) || line.rfind(')') == std::string::npos) {
      continue;
    }
    std::istringstream fields(line.substr(line.rfind(')') + 1));
    char state = 0;
    long ppid = 0;
    if (fields >> state >> ppid && ppid == parent) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return std::nullopt;
}

std::string state_of(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos ? std::string("?") : stat.substr(close + 2, 1);
}

// The situation the tests build is the one the review found: /proc calls the process a zombie
// while it runs.
TEST_F(RunMainThreadExit, TheLingeringProcessLooksLikeAZombie) {
  auto tree = start_tree({"notify", "3", "wait", "4"});
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell);
  const auto lingering = any_child_of(*shell);
  ASSERT_TRUE(lingering) << "no process under the command's shell";
  EXPECT_EQ(state_of(*lingering), "Z");
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::exited(0)) << tree->process->stderr_text();
}

// The normal path: the tree ends when the lingering thread ends, and only then is the lock free.
TEST_F(RunMainThreadExit, ATreeThatEndsNormallyKeepsTheLockUntilTheLastThreadEnds) {
  auto tree = start_tree({"notify", "3", "wait", "4"});
  expect_lock_held();
  EXPECT_TRUE(tree->process->is_running());
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::exited(0)) << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s));
  expect_lock_free_without_reclaim();
}

// A command that exits normally and leaves the process running: a daemon, released at once, and
// named by --verbose (it used to be invisible: skipped as a zombie). The shell exits only once
// the process has lost its main thread.
TEST_F(RunMainThreadExit, ANormalExitLeavingItRunningReleasesAtOnceAndNamesIt) {
  auto tree =
      start_tree({"notify", "3", "wait", "4"}, " & read -r line <&7; exit 0", {"--verbose"});
  tree->go_on.write_byte('\n');
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::exited(0)) << tree->process->stderr_text();
  EXPECT_NE(tree->process->stderr_text().find("left 1 process(es) running"), std::string::npos)
      << tree->process->stderr_text();
  expect_lock_free_without_reclaim();
  tree->release.write_byte();
  EXPECT_TRUE(tree->gone.ends_without_data(10s));
}

class RunMainThreadExitSignal : public RunMainThreadExit,
                                public ::testing::WithParamInterface<int> {};

// SIGTERM or SIGINT to buildlock: the shell dies of it, and the lingering process must get it too
// (it traps it and runs on until let go), the lock stays held until it has ended, then buildlock
// dies of the signal. Before the fix: never signalled, and buildlock waited forever.
TEST_P(RunMainThreadExitSignal, ToBuildlockReachesTheLingeringProcessAndWaitsForItsEnd) {
  const std::string signal = std::to_string(GetParam());
  // --kill-after far beyond the test: it lives until let go, however slow the machine.
  auto tree = start_tree({"trap", signal, "5", "notify", "3", "wait", "4"}, " & wait",
                         {"--kill-after", "3600"});
  tree->process->send_signal(GetParam());
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the lingering process never got the signal\n"
                                                << tree->process->stderr_text();
  EXPECT_EQ(tree->trapped.last_byte(), static_cast<char>(GetParam()));
  expect_lock_held();
  EXPECT_TRUE(tree->process->is_running()) << "buildlock released while the process ran";
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(GetParam()))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "a process of the tree outlived buildlock";
  expect_lock_free_without_reclaim();
}

// Not trapped: the signal's default action ends the whole process, all threads.
TEST_P(RunMainThreadExitSignal, ToBuildlockEndsALingeringProcessThatDoesNotCatchIt) {
  // (A shell's background job starts with SIGINT ignored: that one ends by SIGKILL
  // --kill-after later.)
  auto tree = start_tree({"notify", "3", "wait", "4"}, " & wait", {"--kill-after", "0.5"});
  tree->process->send_signal(GetParam());
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(GetParam()))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "a process of the tree outlived buildlock";
  expect_lock_free_without_reclaim();
}

INSTANTIATE_TEST_SUITE_P(Signals, RunMainThreadExitSignal, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto& param) {
                           return param.param == SIGTERM ? std::string("SIGTERM")
                                                         : std::string("SIGINT");
                         });

// The review's sequence: SIGTERM, then SIGINT. The second stopping signal means "now": SIGKILL at
// once, long before --kill-after.
TEST_F(RunMainThreadExit, ASecondSignalKillsTheLingeringProcessAtOnce) {
  auto tree = start_tree({"trap", std::to_string(SIGTERM), "5", "notify", "3", "wait", "4"},
                         " & wait", {"--kill-after", "3600"});
  tree->process->send_signal(SIGTERM);
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the lingering process never got SIGTERM";
  tree->process->send_signal(SIGINT);
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGTERM))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "a process of the tree outlived buildlock";
  expect_lock_free_without_reclaim();
}

// The command ends (its shell killed, not buildlock) while the process lingers: the release rule
// stops it and waits for its end.
TEST_F(RunMainThreadExit, TheCommandDyingWhileItLingersStopsItBeforeTheRelease) {
  auto tree = start_tree({"trap", std::to_string(SIGTERM), "5", "notify", "3", "wait", "4"},
                         " & wait", {"--kill-after", "3600"});
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell);
  ASSERT_EQ(::kill(*shell, SIGTERM), 0);
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the lingering process never got SIGTERM\n"
                                                << tree->process->stderr_text();
  expect_lock_held();
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGTERM))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "a process of the tree outlived buildlock";
  expect_lock_free_without_reclaim();
}

// kill -9 of the command's shell: the lingering process gets SIGKILL too.
TEST_F(RunMainThreadExit, TheCommandKilledWhileItLingersTakesItAlong) {
  auto tree = start_tree({"notify", "3", "wait", "4"});
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell);
  ASSERT_EQ(::kill(*shell, SIGKILL), 0);
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGKILL))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "the lingering process outlived the lock";
  expect_lock_free_without_reclaim();
}

// kill -9 of buildlock itself: the lingering process, the last of the tree, keeps the lock (with
// kernel locks through its inherited descriptor; without, as a process that carries the lock in
// BUILDLOCK_HELD, which /proc shows only through its running thread: `command-alive`).
TEST_F(RunMainThreadExit, BuildlockKilledLeavesTheLockToTheLingeringProcess) {
  auto tree = start_tree({"notify", "3", "wait", "4"});
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell);
  tree->process->send_signal(SIGKILL);
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGKILL));
  ASSERT_EQ(::kill(*shell, SIGKILL), 0);
  expect_lock_held();
  tree->release.write_byte();
  EXPECT_TRUE(tree->gone.ends_without_data(10s));
  Finished next = run(run_under_lock("L", scripted({}), {"--timeout", "10"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
}

} // namespace
} // namespace buildlock::test
