// Reading back a trace that `run --trace` / BUILDLOCK_TRACE wrote (core/trace_events.h), and the
// timestamps the traced commands write themselves, to check one against the other.
#pragma once

#include "support/integration_test.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace buildlock::test {

struct TraceFile {
  std::vector<nlohmann::json> waits;  // cat buildlock.wait
  std::vector<nlohmann::json> holds;  // cat buildlock.hold
  std::vector<nlohmann::json> losts;  // cat buildlock.lost
  std::vector<nlohmann::json> others; // metadata (thread_name, process_name)

  // The event of category `cat` of run `tid` (buildlock's pid); the test fails if there is not
  // exactly one.
  const nlohmann::json* wait_of(std::int64_t tid) const;
  const nlohmann::json* hold_of(std::int64_t tid) const;
};

// Reads `path`: the first line must be "[", every other line one JSON object followed by ",".
// Adds a test failure for every line that is not.
TraceFile read_trace(const std::string& path);

// What a stamped command wrote: its own start and end, in microseconds since the epoch.
struct Stamps {
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
};

// The argv of a command tree that writes `date +%s%N` to PREFIX.start when it starts and to
// PREFIX.end when it ends; in between, when `held`, it writes one byte to its fd 3 and waits for
// one on its fd 4 (as Holding's pipes).
std::vector<std::string> stamped_command(const std::string& prefix, bool held);
Stamps read_stamps(const std::string& prefix);
// `run` (`buildlock run ... -- <stamped_command(..., held)>`) started, not waited for; when `held`,
// its command's fd 3 and fd 4 are the pipes of the Holding returned.
std::unique_ptr<Holding> start_stamped_run(Command run, bool held);

// The wait of `tid` ended before its hold began; its hold began before the command started and
// ended after the command ended; the command exited 0.
::testing::AssertionResult wait_and_hold_match(const TraceFile& trace, std::int64_t tid,
                                               const Stamps& stamps);

// At no moment did more than `at_most` holds of the trace overlap.
::testing::AssertionResult holds_overlap_at_most(const TraceFile& trace, int at_most);

// The pids the wait of `tid` says it waited behind.
std::vector<std::int64_t> waited_behind(const TraceFile& trace, std::int64_t tid);
bool contains(const std::vector<std::int64_t>& pids, std::int64_t pid);

} // namespace buildlock::test
