// The trace of `run --trace FILE` / BUILDLOCK_TRACE (issue 24): concurrent runs append to one
// file, every line an event, and each run's wait and hold match what happened, checked against
// the timestamps the commands write themselves (support/trace_check.h): a hold contains its
// command, a wait ends before its hold begins, holds of one lock overlap no more than its mode
// allows, and a wait names whom it waited behind, what it reclaimed, or that it timed out.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/trace_check.h"
#include "support/waiting.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

class RunTrace : public IntegrationTest {
protected:
  std::string trace_path = temp / "trace.json";

  // `run --trace FILE OPTIONS... L -- <stamped command NAME>`, not waited for; when `held`, the
  // command says when it runs (fd 3) and ends when let go (fd 4).
  std::unique_ptr<Holding> start_stamped(const std::string& name, std::vector<std::string> options,
                                         bool held, const std::string& lock = "L") const {
    options.insert(options.begin(), {"--trace", trace_path});
    return start_stamped_run(
        run_under_lock(lock, stamped_command(temp / name, held), std::move(options)), held);
  }

  // Starts a run that waits (its --verbose says whom it waits for), and returns once it does.
  std::unique_ptr<Holding> start_waiter(const std::string& name, std::vector<std::string> options,
                                        const std::string& says = "held by") const {
    options.emplace_back("--verbose");
    auto waiter = start_stamped(name, std::move(options), false);
    EXPECT_TRUE(file_eventually_contains(waiter->process->stderr_path(), says, workload_bound(10s)))
        << waiter->process->stderr_text();
    return waiter;
  }
};

TEST_F(RunTrace, ExclusiveRunsOnOneFileWaitAndHoldInTurn) {
  auto holder = start_stamped("holder", {}, true);
  ASSERT_TRUE(holder->started.receives_byte(workload_bound(10s)));
  std::vector<std::unique_ptr<Holding>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(start_waiter("waiter" + std::to_string(i), {}));
  }
  holder->let_go();
  ASSERT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(0));
  for (auto& waiter : waiters) {
    ASSERT_EQ(waiter->process->wait(workload_bound(10s)), ExitStatus::exited(0))
        << waiter->process->stderr_text();
  }

  const TraceFile trace = read_trace(trace_path);
  EXPECT_EQ(trace.waits.size(), 4u);
  EXPECT_EQ(trace.holds.size(), 4u);
  EXPECT_TRUE(wait_and_hold_match(trace, holder->pid(), read_stamps(temp / "holder")));
  EXPECT_TRUE(waited_behind(trace, holder->pid()).empty());
  for (int i = 0; i < 3; ++i) {
    const pid_t pid = waiters[static_cast<std::size_t>(i)]->pid();
    EXPECT_TRUE(
        wait_and_hold_match(trace, pid, read_stamps(temp / ("waiter" + std::to_string(i)))));
    // Each arrived while the holder held the lock (its --verbose said so).
    EXPECT_TRUE(contains(waited_behind(trace, pid), holder->pid())) << trace.wait_of(pid)->dump();
    const nlohmann::json& args = trace.wait_of(pid)->at("args");
    EXPECT_EQ(args.at("lock"), "L");
    EXPECT_EQ(args.at("mode"), "exclusive");
    EXPECT_EQ(args.at("store"), lock_dir);
  }
  EXPECT_TRUE(holds_overlap_at_most(trace, 1));
}

// However the first runs race to create the file, it starts with one "[" and no line is mixed.
TEST_F(RunTrace, RunsStartingTogetherOnAMissingFileWriteOneHeader) {
  std::vector<std::unique_ptr<Holding>> runs;
  for (int i = 0; i < 6; ++i) {
    runs.push_back(start_stamped("run" + std::to_string(i), {}, false, "L" + std::to_string(i)));
  }
  for (auto& run : runs) {
    ASSERT_EQ(run->process->wait(workload_bound(10s)), ExitStatus::exited(0))
        << run->process->stderr_text();
  }
  const TraceFile trace = read_trace(trace_path); // fails on a second "[" or a mixed line
  EXPECT_EQ(trace.waits.size(), 6u);
  EXPECT_EQ(trace.holds.size(), 6u);
  for (const std::string& name : directory_entries(temp.path())) {
    EXPECT_EQ(name.find(".buildlock-new."), std::string::npos) << "temporary file left: " << name;
  }
}

TEST_F(RunTrace, SharedRunsHoldTogetherAndAWriterWaitsBehindThem) {
  auto first = start_stamped("reader0", {"--shared"}, true);
  auto second = start_stamped("reader1", {"--shared"}, true);
  ASSERT_TRUE(first->started.receives_byte(workload_bound(10s)));
  ASSERT_TRUE(second->started.receives_byte(workload_bound(10s)));
  auto writer = start_waiter("writer", {});
  first->let_go();
  second->let_go();
  for (auto* run : {first.get(), second.get(), writer.get()}) {
    ASSERT_EQ(run->process->wait(workload_bound(10s)), ExitStatus::exited(0))
        << run->process->stderr_text();
  }
  const TraceFile trace = read_trace(trace_path);
  EXPECT_TRUE(wait_and_hold_match(trace, first->pid(), read_stamps(temp / "reader0")));
  EXPECT_TRUE(wait_and_hold_match(trace, second->pid(), read_stamps(temp / "reader1")));
  EXPECT_TRUE(wait_and_hold_match(trace, writer->pid(), read_stamps(temp / "writer")));
  EXPECT_EQ(trace.hold_of(first->pid())->at("args").at("mode"), "shared");
  // Both readers held at once (each was running before the other was let go).
  EXPECT_FALSE(holds_overlap_at_most(trace, 1));
  EXPECT_TRUE(holds_overlap_at_most(trace, 2));
  const std::vector<std::int64_t> behind = waited_behind(trace, writer->pid());
  EXPECT_TRUE(contains(behind, first->pid()) || contains(behind, second->pid()))
      << trace.wait_of(writer->pid())->dump();
  const std::int64_t writer_start = trace.hold_of(writer->pid())->at("ts").get<std::int64_t>();
  for (auto* reader : {first.get(), second.get()}) {
    const nlohmann::json& hold = *trace.hold_of(reader->pid());
    EXPECT_LE(hold.at("ts").get<std::int64_t>() + hold.at("dur").get<std::int64_t>(), writer_start);
  }
}

TEST_F(RunTrace, SlotsLetNHoldAndTheNextWaitsBehindThem) {
  auto one = start_stamped("slot0", {"--slots", "2"}, true);
  auto two = start_stamped("slot1", {"--slots", "2"}, true);
  ASSERT_TRUE(one->started.receives_byte(workload_bound(10s)));
  ASSERT_TRUE(two->started.receives_byte(workload_bound(10s)));
  auto third = start_waiter("slot2", {"--slots", "2"}, "waiting for a slot");
  one->let_go();
  ASSERT_EQ(third->process->wait(workload_bound(10s)), ExitStatus::exited(0))
      << third->process->stderr_text();
  two->let_go();
  ASSERT_EQ(one->process->wait(workload_bound(10s)), ExitStatus::exited(0));
  ASSERT_EQ(two->process->wait(workload_bound(10s)), ExitStatus::exited(0));
  const TraceFile trace = read_trace(trace_path);
  EXPECT_TRUE(wait_and_hold_match(trace, one->pid(), read_stamps(temp / "slot0")));
  EXPECT_TRUE(wait_and_hold_match(trace, two->pid(), read_stamps(temp / "slot1")));
  EXPECT_TRUE(wait_and_hold_match(trace, third->pid(), read_stamps(temp / "slot2")));
  EXPECT_TRUE(holds_overlap_at_most(trace, 2));
  const std::vector<std::int64_t> behind = waited_behind(trace, third->pid());
  EXPECT_TRUE(contains(behind, one->pid()) && contains(behind, two->pid()))
      << trace.wait_of(third->pid())->dump();
  EXPECT_EQ(trace.hold_of(third->pid())->at("args").at("slots"), 2);
}

// BUILDLOCK_TRACE reaches nested runs through the environment; both are one build (the pid of
// the outermost process that sets it), each run a track of its own.
TEST_F(RunTrace, NestedRunsShareTheBuildOfTheOutermost) {
  std::vector<std::string> inner = run_arguments("B", stamped_command(temp / "inner", false));
  inner.insert(inner.begin(), buildlock_binary());
  // A shell between the two, as make would be, that stamps the end of all it ran.
  std::vector<std::string> shell = {"/bin/sh", "-c", "\"$@\"; date +%s%N > \"$0\"",
                                    temp / "outer.end"};
  shell.insert(shell.end(), inner.begin(), inner.end());
  std::vector<std::string> argv = run_arguments("A", shell);
  argv.insert(argv.begin(), buildlock_binary());
  Command command = program(argv);
  command.env("BUILDLOCK_TRACE", trace_path);
  const Finished finished = run(command);
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;

  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(trace.holds.size(), 2u);
  const nlohmann::json& first = trace.holds[0]; // the inner one ends first
  const nlohmann::json& second = trace.holds[1];
  EXPECT_EQ(first.at("args").at("lock"), "B");
  EXPECT_EQ(second.at("args").at("lock"), "A");
  EXPECT_EQ(first.at("pid"), second.at("pid"));
  EXPECT_EQ(second.at("pid"), second.at("tid")) << "the outer run is the build";
  EXPECT_NE(first.at("tid"), second.at("tid"));
  EXPECT_TRUE(
      wait_and_hold_match(trace, first.at("tid").get<std::int64_t>(), read_stamps(temp / "inner")));
  const std::int64_t outer_start = second.at("ts").get<std::int64_t>();
  EXPECT_LE(outer_start, first.at("ts").get<std::int64_t>());
  EXPECT_GE(outer_start + second.at("dur").get<std::int64_t>(),
            std::stoll(read_file(temp / "outer.end")) / 1000);
}

// Sibling runs of one build (a make or ninja running steps one after another) share its pid: the
// process whose environment BUILDLOCK_TRACE was set for, not each run's own.
TEST_F(RunTrace, SiblingRunsOfABuildShareItsPid) {
  std::vector<std::string> first = run_arguments("A", stamped_command(temp / "first", false));
  std::vector<std::string> second = run_arguments("B", stamped_command(temp / "second", false));
  std::string script = "\"$0\"";
  for (const std::string& word : first) {
    script += " '" + word + "'";
  }
  script += " && \"$0\"";
  for (const std::string& word : second) {
    script += " '" + word + "'";
  }
  script += "; exit $?"; // the shell waits for both (no exec of the last command)
  Command build = program({"/bin/sh", "-c", script, buildlock_binary()});
  build.env("BUILDLOCK_TRACE", trace_path);
  Process process = build.start();
  ASSERT_EQ(process.wait(workload_bound(10s)), ExitStatus::exited(0)) << process.stderr_text();

  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(trace.holds.size(), 2u);
  for (const nlohmann::json& hold : trace.holds) {
    EXPECT_EQ(hold.at("pid"), process.pid()) << hold.dump();
    EXPECT_NE(hold.at("tid"), process.pid()) << hold.dump();
  }
  EXPECT_NE(trace.holds[0].at("tid"), trace.holds[1].at("tid"));
}

TEST_F(RunTrace, TheOptionWinsOverTheVariable) {
  const std::string other = temp / "other.json";
  Command command =
      run_under_lock("L", stamped_command(temp / "run", false), {"--trace", trace_path});
  command.env("BUILDLOCK_TRACE", other);
  const Finished finished = run(command);
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(read_trace(trace_path).holds.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(other));
}

// A trace is an observation: one that cannot be written is a warning, and the command runs.
TEST_F(RunTrace, ATraceThatCannotBeWrittenIsAWarningAndTheCommandRuns) {
  const std::string unwritable = temp / "no-such-directory/trace.json";
  const Finished finished =
      run(run_under_lock("L", stamped_command(temp / "run", false), {"--trace", unwritable}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_NE(finished.err.find("buildlock: warning: cannot write the trace `" + unwritable + "`"),
            std::string::npos)
      << finished.err;
  EXPECT_TRUE(std::filesystem::exists(temp / "run.end")) << "the command did not run";
}

// kill -9 of a holder's whole job: the next run reclaims its lock, and its wait says so.
TEST_F(RunTrace, AKilledHoldersLockIsReclaimedAndTheWaitSaysSo) {
  auto holder = start_holding("L", {"--trace", trace_path}, {},
                              [](Command& command) { command.own_process_group(); });
  kill_job_with_sigkill(*holder->process);
  ASSERT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::killed_by(SIGKILL));
  // End-of-file on the command's pipe: the command is dead too (it held the write end).
  ASSERT_EQ(holder->started.read_to_end(workload_bound(10s)), std::string());
  auto next = start_stamped("next", {}, false);
  ASSERT_EQ(next->process->wait(workload_bound(10s)), ExitStatus::exited(0))
      << next->process->stderr_text();

  const TraceFile trace = read_trace(trace_path);
  ASSERT_NE(trace.wait_of(holder->pid()), nullptr);
  EXPECT_TRUE(trace.holds.size() == 1u) << "a killed holder writes no hold";
  EXPECT_TRUE(wait_and_hold_match(trace, next->pid(), read_stamps(temp / "next")));
  const nlohmann::json& reclaimed = trace.wait_of(next->pid())->at("args").at("reclaimed");
  ASSERT_EQ(reclaimed.size(), 1u) << reclaimed.dump();
  EXPECT_NE(reclaimed[0].get<std::string>().find("pid " + std::to_string(holder->pid())),
            std::string::npos)
      << reclaimed.dump();
}

TEST_F(RunTrace, ATimeoutIsTheWaitsOutcomeAndNoHoldFollows) {
  auto holder = start_stamped("holder", {}, true);
  ASSERT_TRUE(holder->started.receives_byte(workload_bound(10s)));
  const Finished late = run(run_under_lock("L", stamped_command(temp / "late", false),
                                           {"--trace", trace_path, "--timeout", "0.2"}));
  EXPECT_EQ(late.status, ExitStatus::exited(75)) << late.err;
  holder->let_go();
  ASSERT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(0));

  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(trace.waits.size(), 2u);
  ASSERT_EQ(trace.holds.size(), 1u);
  const nlohmann::json& wait =
      trace.waits[0].at("tid") == holder->pid() ? trace.waits[1] : trace.waits[0];
  EXPECT_EQ(wait.at("args").at("outcome"), "timeout");
  EXPECT_NE(wait.at("args").at("error").get<std::string>().find("timed out"), std::string::npos);
  EXPECT_GE(wait.at("dur").get<std::int64_t>(), 200000);
  EXPECT_TRUE(contains(waited_behind(trace, wait.at("tid").get<std::int64_t>()), holder->pid()));
  EXPECT_TRUE(wait_and_hold_match(trace, holder->pid(), read_stamps(temp / "holder")));
}

// `break` takes the lock away: a LOCK LOST instant inside the hold, which ends with exit 76.
TEST_F(RunTrace, ALostLockIsAnInstantInsideItsHold) {
  auto holder = start_stamped("holder", {"--stale-after", "0.4"}, true);
  ASSERT_TRUE(holder->started.receives_byte(workload_bound(10s)));
  const Finished broken = run(buildlock({"break", "--dir", lock_dir, "--force", "L"}));
  ASSERT_EQ(broken.status, ExitStatus::exited(0)) << broken.err;
  EXPECT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(76));

  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(trace.losts.size(), 1u);
  const nlohmann::json* hold = trace.hold_of(holder->pid());
  ASSERT_NE(hold, nullptr);
  EXPECT_EQ(hold->at("args").at("lost"), true);
  EXPECT_EQ(hold->at("args").at("exit"), 76);
  const nlohmann::json& lost = trace.losts[0];
  EXPECT_EQ(lost.at("ph"), "i");
  EXPECT_EQ(lost.at("tid"), holder->pid());
  const std::int64_t at = lost.at("ts").get<std::int64_t>();
  EXPECT_GE(at, hold->at("ts").get<std::int64_t>());
  EXPECT_LE(at, hold->at("ts").get<std::int64_t>() + hold->at("dur").get<std::int64_t>());
}

} // namespace
} // namespace buildlock::test
