// Waiting for things that only show in a file, and summarising measurements.
#pragma once

#include "support/pipe.h"

#include <chrono>
#include <gtest/gtest.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::test {

// Success as soon as the file at `path` contains `needle` (checked every 2 ms); failure, with
// the file's content, after `timeout`. For states a process reports only as a line it writes,
// such as buildlock's verbose "is held by" line before it blocks on the holder's lock.
::testing::AssertionResult
file_eventually_contains(const std::string& path, const std::string& needle, milliseconds timeout);

// Success as soon as process `pid` is seen asleep in the kernel in `requests` blocking flock(2)
// calls at once (a waiter on several slots has one per slot), proved two ways: /proc/locks lists
// that many blocked requests (`->`) of the process, and as many of its threads are inside the
// flock system call (/proc/PID/task/TID/syscall). A waiter that polls with LOCK_NB is never
// listed as blocked, however often it is sampled. Failure, with what was seen, after `timeout`.
::testing::AssertionResult is_asleep_in_flock(pid_t pid, int requests, milliseconds timeout);

// The median of `samples` (sorted copy; the upper middle for an even count).
Clock::duration median(std::vector<Clock::duration> samples);

std::vector<std::string> lines_of(const std::string& text);
std::size_t count_occurrences(const std::string& text, const std::string& needle);

// A bound on a whole workload (not on one latency), scaled like the ctest timeouts for slow
// (sanitized) builds.
inline milliseconds workload_bound(milliseconds bound) {
  return bound * BUILDLOCK_TEST_TIMEOUT_FACTOR;
}

// Milliseconds as a double, for messages.
double to_ms(Clock::duration duration);

// Prints "[ measured ] <what>: <ms> ms" and records it in the test's XML report, so that the
// margin under each latency bound can be followed over time.
void report_measurement(const std::string& what, Clock::duration duration);

} // namespace buildlock::test
