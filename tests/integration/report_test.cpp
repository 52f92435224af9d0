// `buildlock report` (issue 24) as a user runs it: on the trace of real concurrent runs, and on
// files that are not traces (one `buildlock: error:` line, exit 66) or end in a torn line.
#include "support/integration_test.h"
#include "support/skip_or_fail.h"
#include "support/trace_check.h"
#include "support/waiting.h"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <set>
#include <unistd.h>

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
  // Which wait was longer depends on the machine (the holder's own start-up may take longer
  // than the waiter's wait): the figures must be the trace's, whichever it is.
  const std::int64_t waited = trace.wait_of(waiter.pid())->at("dur").get<std::int64_t>();
  const std::int64_t holder_waited = trace.wait_of(holder->pid())->at("dur").get<std::int64_t>();
  EXPECT_EQ(lock.at("wait").at("max_us"), std::max(waited, holder_waited));
  EXPECT_EQ(lock.at("wait").at("total_us"), waited + holder_waited);
  ASSERT_EQ(lock.at("longest_waits").size(), 2u);
  const nlohmann::json& longest = lock.at("longest_waits")[0];
  const nlohmann::json& shorter = lock.at("longest_waits")[1];
  EXPECT_GE(longest.at("wait_us"), shorter.at("wait_us"));
  const nlohmann::json& of_waiter = longest.at("run") == waiter.pid() ? longest : shorter;
  EXPECT_EQ(of_waiter.at("run"), waiter.pid());
  EXPECT_EQ(of_waiter.at("wait_us"), waited);
  ASSERT_EQ(of_waiter.at("behind").size(), 1u) << of_waiter.dump();
  EXPECT_EQ(of_waiter.at("behind").at(0).at("pid"), holder->pid());
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

// The bars of kind `kind` in `svg`, as "LOCK run TS DUR" (the attributes every bar carries).
std::multiset<std::string> bars_of(const std::string& svg, const std::string& kind) {
  std::multiset<std::string> bars;
  const std::regex bar("data-kind=\"" + kind +
                       "\" data-lock=\"([^\"]*)\" data-run=\"([0-9]+)\" data-ts=\"([0-9]+)\" "
                       "data-dur=\"([0-9]+)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator();
       ++it) {
    bars.insert((*it)[1].str() + " " + (*it)[2].str() + " " + (*it)[3].str() + " " +
                (*it)[4].str());
  }
  return bars;
}

std::multiset<std::string> events_as_bars(const std::vector<nlohmann::json>& events) {
  std::multiset<std::string> bars;
  for (const nlohmann::json& event : events) {
    bars.insert(event.at("args").at("lock").get<std::string>() + " " +
                std::to_string(event.at("tid").get<std::int64_t>()) + " " +
                std::to_string(event.at("ts").get<std::int64_t>()) + " " +
                std::to_string(event.value("dur", std::int64_t{0})));
  }
  return bars;
}

// A timeline of real runs: lock L with a holder and a waiter, lock M with a killed holder and the
// run that reclaimed it (its command's argument full of XML's special characters), and a run
// that timed out. Rendered by a real SVG renderer, and its lanes, bars and labels checked
// against the trace.
TEST_F(Report, TheSvgTimelineHasALanePerLockAndABarPerEvent) {
  if (::access("/usr/bin/rsvg-convert", X_OK) != 0) {
    SKIP_OR_FAIL_IN_CI("rsvg-convert is missing (Debian package librsvg2-bin)");
  }
  auto holder = start_holding("L", {"--trace", trace_path});
  Command command = run_under_lock("L", stamped_command(temp / "waiter", false),
                                   {"--trace", trace_path, "--verbose"});
  Process waiter = command.start();
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "held by", workload_bound(10s)));
  const Finished late = run(
      run_under_lock("L", {"/bin/sh", "-c", "exit 0"}, {"--trace", trace_path, "--timeout", "0"}));
  EXPECT_EQ(late.status, ExitStatus::exited(75)) << late.err;
  holder->let_go();
  ASSERT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(0));
  ASSERT_EQ(waiter.wait(workload_bound(10s)), ExitStatus::exited(0));
  auto killed =
      start_holding("M", {"--trace", trace_path}, {}, [](Command& c) { c.own_process_group(); });
  kill_job_with_sigkill(*killed->process);
  ASSERT_EQ(killed->process->wait(workload_bound(10s)), ExitStatus::killed_by(SIGKILL));
  ASSERT_EQ(killed->started.read_to_end(workload_bound(10s)), std::string());
  const Finished reclaimer = run(
      run_under_lock("M", {"/bin/sh", "-c", "exit 0", "sh", "a<b&c>\"d"}, {"--trace", trace_path}));
  ASSERT_EQ(reclaimer.status, ExitStatus::exited(0)) << reclaimer.err;

  const std::string svg_path = temp / "timeline.svg";
  const Finished report = run(buildlock({"report", "--svg", svg_path, trace_path}));
  ASSERT_EQ(report.status, ExitStatus::exited(0)) << report.err;
  const Finished rendered = run(program({"rsvg-convert", "-o", temp / "timeline.png", svg_path}));
  ASSERT_EQ(rendered.status, ExitStatus::exited(0)) << rendered.err;
  EXPECT_EQ(read_file(temp / "timeline.png").substr(1, 3), "PNG");

  const std::string svg = read_file(svg_path);
  const TraceFile trace = read_trace(trace_path);
  // A lane per lock, labelled.
  for (const char* lock : {"L", "M"}) {
    EXPECT_NE(svg.find(std::string("<g class=\"lane\" data-lock=\"") + lock + "\""),
              std::string::npos);
    EXPECT_NE(svg.find(std::string(">lock ") + lock + "<"), std::string::npos);
  }
  EXPECT_EQ(bars_of(svg, "hold"), events_as_bars(trace.holds));
  EXPECT_EQ(bars_of(svg, "wait"), events_as_bars(trace.waits));
  EXPECT_EQ(trace.holds.size(), 3u); // L twice, M once (the killed holder wrote none)
  EXPECT_EQ(trace.waits.size(), 5u);
  // The holder's bar is labelled with its pid; the waiter points at it; the reclaim is marked.
  EXPECT_NE(svg.find(">pid " + std::to_string(holder->pid()) + " "), std::string::npos);
  EXPECT_NE(svg.find("data-run=\"" + std::to_string(waiter.pid()) + "\" data-blocker=\"" +
                     std::to_string(holder->pid()) + "\""),
            std::string::npos);
  const std::multiset<std::string> reclaims = bars_of(svg, "reclaim");
  ASSERT_EQ(reclaims.size(), 1u);
  EXPECT_EQ(reclaims.begin()->substr(0, 2), "M ");
  EXPECT_NE(svg.find("class=\"wait failed\""), std::string::npos) << "the timeout";
  EXPECT_NE(svg.find("a&lt;b&amp;c&gt;&quot;d"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

} // namespace
} // namespace buildlock::test
