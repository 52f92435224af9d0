// `buildlock report` (issue 24) as a user runs it: on the trace of real concurrent runs, and on
// files that are not traces (one `buildlock: error:` line, exit 66) or end in a torn line.
#include "support/integration_test.h"
#include "support/trace_check.h"
#include "support/waiting.h"

#include <fstream>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

class Report : public IntegrationTest {
protected:
  std::string trace_path = temp / "trace.json";

  static void expect_one_error_line(const Finished& finished, const std::string& needle) {
    EXPECT_EQ(finished.status, ExitStatus::exited(66)) << finished.err;
    EXPECT_EQ(finished.err.rfind("buildlock: error: ", 0), 0u) << finished.err;
    EXPECT_EQ(finished.err.find('\n'), finished.err.size() - 1) << finished.err;
    EXPECT_NE(finished.err.find(needle), std::string::npos) << finished.err;
    EXPECT_EQ(finished.out, "");
  }
};

TEST_F(Report, FiguresOfRealRunsWithWhomTheyWaitedBehind) {
  auto holder = start_holding("L", {"--trace", trace_path});
  Command command = run_under_lock("L", stamped_command(temp / "waiter", false),
                                   {"--trace", trace_path, "--verbose"});
  Process waiter = command.start();
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "held by", workload_bound(10s)));
  holder->let_go();
  ASSERT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(0));
  ASSERT_EQ(waiter.wait(workload_bound(10s)), ExitStatus::exited(0));

  const Finished finished = run(buildlock({"report", "--json", trace_path}));
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  const nlohmann::json report = nlohmann::json::parse(finished.out);
  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(report.at("locks").size(), 1u);
  const nlohmann::json& lock = report.at("locks")[0];
  EXPECT_EQ(lock.at("lock"), "L");
  EXPECT_EQ(lock.at("acquisitions"), 2);
  EXPECT_EQ(lock.at("wait").at("count"), 2);
  const std::int64_t waited = trace.wait_of(waiter.pid())->at("dur").get<std::int64_t>();
  EXPECT_EQ(lock.at("wait").at("max_us"), waited);
  const nlohmann::json& longest = lock.at("longest_waits")[0];
  EXPECT_EQ(longest.at("run"), waiter.pid());
  EXPECT_EQ(longest.at("behind")[0].at("pid"), holder->pid());
  EXPECT_EQ(lock.at("holds_by_command").size(), 2u);
  EXPECT_EQ(report.at("builds").size(), 2u) << "two runs started by the test: two builds";

  const Finished table = run(buildlock({"report", trace_path}));
  ASSERT_EQ(table.status, ExitStatus::exited(0)) << table.err;
  EXPECT_NE(table.out.find("lock `L` in " + lock_dir), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("behind pid " + std::to_string(holder->pid())), std::string::npos)
      << table.out;
}

TEST_F(Report, AMissingFileIsOneErrorLineAndExit66) {
  expect_one_error_line(run(buildlock({"report", temp / "missing.json"})), "missing.json");
}

TEST_F(Report, BinaryJunkIsOneErrorLineAndExit66) {
  std::ofstream(trace_path, std::ios::binary) << std::string("\x7f"
                                                             "ELF\0\1\2\n\xff\xfe",
                                                             10);
  expect_one_error_line(run(buildlock({"report", trace_path})), "not a trace");
}

TEST_F(Report, ATornLastLineFromAKilledWriterIsAWarning) {
  const Finished traced =
      run(run_under_lock("L", stamped_command(temp / "run", false), {"--trace", trace_path}));
  ASSERT_EQ(traced.status, ExitStatus::exited(0)) << traced.err;
  std::ofstream(trace_path, std::ios::app) << R"({"name":"wait L","cat":"buildlock.wa)";
  const Finished finished = run(buildlock({"report", trace_path}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err.rfind("buildlock: warning: ", 0), 0u) << finished.err;
  EXPECT_NE(finished.out.find("acquisitions 1,"), std::string::npos) << finished.out;
}

} // namespace
} // namespace buildlock::test
