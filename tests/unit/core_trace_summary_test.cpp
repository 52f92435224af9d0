// The figures of `buildlock report` (core/trace_summary.cpp), from a trace this test writes with
// the same functions `run` uses (core/trace_events.h): exact numbers, nearest-rank percentiles.
#include "core/trace_events.h"
#include "core/trace_summary.h"
#include "test_directory.h"

#include <fstream>
#include <gtest/gtest.h>

namespace buildlock::core {
namespace {

TraceSubject subject(std::int64_t build, std::int64_t run, const std::string& lock,
                     const std::string& command) {
  return TraceSubject{build, run, "host-a", lock, LockMode::exclusive, 0, "/d", {command}};
}

WaitRecord behind(std::int64_t pid) {
  WaitRecord record;
  LockMetadata holder;
  holder.pid = pid;
  holder.host = "host-a";
  holder.command = {"make", "a"};
  record.saw_holder("lock `L` held by pid " + std::to_string(pid), &holder);
  return record;
}

class TraceSummaryTest : public ::testing::Test {
protected:
  test::TestDirectory directory;
  std::string path = directory.path() + "/trace.json";

  void write(const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
};

TEST_F(TraceSummaryTest, FiguresPerLockAndPerBuild) {
  std::string text = trace_header;
  // Lock L: waits of 100, 200, 300, 400 us (acquired) and 1000 us (timed out). Build 10 has the
  // first three runs, build 20 the others.
  text += wait_lines(subject(10, 11, "L", "make a"), 1000, 1100, {}, WaitOutcome::acquired, "");
  text += hold_lines(subject(10, 11, "L", "make a"), 1100, 1150, HoldEnd{false, 0, {}, ""});
  text +=
      wait_lines(subject(10, 12, "L", "make a"), 1000, 1200, behind(11), WaitOutcome::acquired, "");
  text += hold_lines(subject(10, 12, "L", "make a"), 1200, 1270, HoldEnd{false, 2, {}, ""});
  WaitRecord reclaiming = behind(12);
  reclaiming.reclaimed("lock `L` of pid 99 [holder-dead]");
  text +=
      wait_lines(subject(10, 13, "L", "make b"), 1000, 1300, reclaiming, WaitOutcome::acquired, "");
  text += hold_lines(subject(10, 13, "L", "make b"), 1300, 1800,
                     HoldEnd{false, 76, 1500, "its file was removed"});
  text +=
      wait_lines(subject(20, 21, "L", "make c"), 1500, 1900, behind(13), WaitOutcome::acquired, "");
  text += wait_lines(subject(20, 22, "L", "make d"), 2000, 3000, behind(21), WaitOutcome::timeout,
                     "timed out");
  // Lock M: one wait of 5 us.
  text += wait_lines(subject(20, 23, "M", "ld"), 4000, 4005, {}, WaitOutcome::acquired, "");
  write(text);

  const std::vector<std::string> paths{path};
  auto events = read_traces(paths, Messages{});
  ASSERT_TRUE(events) << events.error().message;
  const TraceSummary summary = summarize(*events, paths);

  ASSERT_EQ(summary.locks.size(), 2u);
  const LockSummary& lock = summary.locks[0]; // the most waited-for first
  EXPECT_EQ(lock.lock, "L");
  EXPECT_EQ(lock.store, "/d");
  EXPECT_EQ(lock.acquisitions, 4u);
  EXPECT_EQ(lock.timeouts, 1u);
  EXPECT_EQ(lock.errors, 0u);
  EXPECT_EQ(lock.lost, 1u);
  EXPECT_EQ(lock.waits.count, 5u);
  EXPECT_EQ(lock.waits.total_us, 2000);
  EXPECT_EQ(lock.waits.median_us, 300); // rank ceil(0.5 * 5) = 3
  EXPECT_EQ(lock.waits.p95_us, 1000);   // rank ceil(0.95 * 5) = 5
  EXPECT_EQ(lock.waits.max_us, 1000);
  ASSERT_EQ(lock.reclaims, std::vector<std::string>{"lock `L` of pid 99 [holder-dead]"});

  ASSERT_EQ(lock.longest.size(), 5u);
  EXPECT_EQ(lock.longest[0]->run, 22);
  EXPECT_EQ(lock.longest[0]->outcome, "timeout");
  ASSERT_EQ(lock.longest[0]->behind.size(), 1u);
  EXPECT_EQ(lock.longest[0]->behind[0].pid, 21);
  EXPECT_EQ(lock.longest[0]->behind[0].command, "make a");
  EXPECT_EQ(lock.longest[1]->run, 21);
  EXPECT_EQ(lock.longest[4]->run, 11);

  ASSERT_EQ(lock.holds.size(), 2u);
  EXPECT_EQ(lock.holds[0].command, "make b"); // 500 us in all, more than make a's 120
  EXPECT_EQ(lock.holds[0].holds, 1u);
  EXPECT_EQ(lock.holds[0].total_us, 500);
  EXPECT_EQ(lock.holds[1].command, "make a");
  EXPECT_EQ(lock.holds[1].holds, 2u);
  EXPECT_EQ(lock.holds[1].total_us, 120);
  EXPECT_EQ(lock.holds[1].max_us, 70);

  EXPECT_EQ(summary.locks[1].lock, "M");
  EXPECT_EQ(summary.locks[1].waits.median_us, 5);

  ASSERT_EQ(summary.builds.size(), 2u);
  EXPECT_EQ(summary.builds[0].build, 20); // 400 + 1000 + 5 us
  EXPECT_EQ(summary.builds[0].runs, 3u);
  EXPECT_EQ(summary.builds[0].waited_us, 1405);
  EXPECT_EQ(summary.builds[0].longest_wait_us, 1000);
  EXPECT_EQ(summary.builds[1].build, 10); // 100 + 200 + 300 us
  EXPECT_EQ(summary.builds[1].waited_us, 600);
  EXPECT_EQ(summary.builds[1].file, path);
}

TEST_F(TraceSummaryTest, EvenCountsTakeTheLowerMiddleAsMedian) {
  std::string text = trace_header;
  for (int i = 1; i <= 4; ++i) {
    text += wait_lines(subject(1, i, "L", "x"), 0, i * 10, {}, WaitOutcome::acquired, "");
  }
  write(text);
  auto events = read_traces({path}, Messages{});
  ASSERT_TRUE(events);
  const TraceSummary summary = summarize(*events, {path});
  EXPECT_EQ(summary.locks.at(0).waits.median_us, 20);
  EXPECT_EQ(summary.locks.at(0).waits.p95_us, 40);
}

} // namespace
} // namespace buildlock::core
