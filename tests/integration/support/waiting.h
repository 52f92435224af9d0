// Waiting for things that only show in a file, and summarising measurements.
#pragma once

#include "support/pipe.h"

#include <chrono>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::test {

// Success as soon as the file at `path` contains `needle` (`times` times or more; checked every
// 2 ms); failure, with the file's content, after `timeout`. For states a process reports only as
// a line it writes, such as buildlock's verbose "is held by" line before it blocks on the
// holder's lock.
::testing::AssertionResult file_eventually_contains(const std::string& path,
                                                    const std::string& needle, milliseconds timeout,
                                                    std::size_t times = 1);

// Success as soon as process `pid` is seen asleep in the kernel in `requests` blocking flock(2)
// calls at once (a waiter on several slots has one per slot), proved two ways: /proc/locks lists
// that many blocked requests (`->`) of the process, and as many of its threads are inside the
// flock system call (/proc/PID/task/TID/syscall). A waiter that polls with LOCK_NB is never
// listed as blocked, however often it is sampled. Failure, with what was seen, after `timeout`.
::testing::AssertionResult is_asleep_in_flock(pid_t pid, int requests, milliseconds timeout);

// Success when process `pid`, once seen asleep in flock(2) as above (within `timeout`), stays
// there for a whole `window`: asleep in flock at its end too, and in between none of its threads
// ran (utime + stime in /proc/PID/task/TID/stat unchanged) or was woken (voluntary and involuntary
// context switches in .../status unchanged). That is the proof that a waiter "sleeps in the
// kernel" rather than polls: a poller (every 250 ms at most without kernel locks) is woken in any
// window longer than that. Its wchan (this kernel: `locks_lock_inode_wait`) must name a lock wait
// when the kernel shows it. A waiter also wakes once for its notice after 1 s (and at its
// --timeout): wait for the notice ("waiting for lock") before calling this.
::testing::AssertionResult sleeps_in_flock_throughout(pid_t pid, int requests, milliseconds window,
                                                      milliseconds timeout);

// What the threads of `pid` have done so far, summed: CPU time in clock ticks (utime + stime,
// fields 14 and 15 of /proc/PID/task/TID/stat) and context switches (voluntary and involuntary,
// /proc/PID/task/TID/status). Unchanged over a window: no thread ran or was woken in it.
struct Activity {
  long long cpu_ticks = 0;
  long long switches = 0;
  bool operator==(const Activity&) const = default;
};
Activity activity_of(pid_t pid);

// child_of(parent) (process.h) once there is one, or nullopt after `timeout`: e.g. buildlock
// started by `unshare --fork` in another PID namespace, seen from here.
std::optional<pid_t> eventually_child_of(pid_t parent, milliseconds timeout);

// The median of `samples` (sorted copy; the upper middle for an even count).
Clock::duration median(std::vector<Clock::duration> samples);

std::vector<std::string> lines_of(const std::string& text);
std::size_t count_occurrences(const std::string& text, const std::string& needle);

// How many times a --verbose buildlock has judged a lock held so far: it writes one
// "... is held by ..." line per look before it sleeps or polls.
inline std::size_t looks_at_held_lock(const std::string& err) {
  return count_occurrences(err, " is held by ");
}

// The age buildlock itself saw when it judged a lock stale by the age rule, from its line
// "... last refreshed 1.2s ago, more than the 1.0s limit [...]" (the first such line in `err`):
// measured at that look on the filesystem's clock, with neither an exec nor the test's own
// reaction in it. nullopt without such a line.
std::optional<milliseconds> age_seen_at_reclaim(const std::string& err);

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
