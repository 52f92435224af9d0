// The measurements. Each runs buildlock and flock(1) alternately in the same run, on the same
// setup, and returns raw samples (milliseconds, acquisitions per second, KiB); the report turns
// them into figures. Every scenario throws BenchError when a process misbehaves (wrong exit
// status, two holders at once, a waiter that never parks) instead of reporting a number.
#pragma once

#include "setup.h"

#include <array>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::bench {

using PerTool = std::array<std::vector<double>, 2>;

// `run LOCK -- true` against `flock L true`, one after the other, `repetitions` times each;
// plus `true` alone as the floor both pay, and `run --trace FILE LOCK -- true` (issue 24: the cost
// of a trace, against the same run without one, in the same loop).
struct Uncontended {
  PerTool wall_ms;
  std::vector<double> bare_true_ms;
  std::vector<double> traced_ms;
};
// Repetition `first_repetition + i` decides who goes first (order_for), so that a run split into
// chunks still alternates.
Uncontended measure_uncontended(const Setup& setup, int repetitions, int first_repetition = 0);

// Peak RSS (wait4 ru_maxrss, KiB) of the same calls, each run by `stamp rusage` (see
// bench_stamp.cpp for why not straight from this process); `true` alone as the floor.
struct PeakRss {
  PerTool kib;
  std::vector<double> bare_true_kib;
};
PeakRss measure_peak_rss(const Setup& setup, const std::string& stamp, int samples);

// `processes` processes each acquire the lock `acquisitions` times (command `true`);
// acquisitions per second of each round.
PerTool measure_throughput(const Setup& setup, int processes, int acquisitions, int rounds,
                           int first_round = 0);

// `processes` processes each acquire the lock `per_process` times; the command holds until all
// others that still have work are parked in flock(2), so every handoff has a waiter ready.
// Latency: from the holder's command ending to the next command starting.
struct Handoff {
  PerTool latency_ms;
  std::array<int, 2> unparked{}; // handoffs whose waiters never all parked (excluded)
};
Handoff measure_handoff(const Setup& setup, const std::string& stamp, int processes,
                        int per_process, int round = 0);

// kill -9 of a holder (wrapper and command) to the next acquisition's command starting, with a
// waiter already parked, and with a new run started right after the kill.
struct Reclaim {
  PerTool parked_waiter_ms;
  PerTool new_run_ms;
};
Reclaim measure_reclaim(const Setup& setup, const std::string& stamp, int samples,
                        int first_sample = 0);

// Appends `more` to `into`, tool by tool.
void append(PerTool& into, const PerTool& more);

// A holder of lock `lock` running `stamp notify ... HOLD`: its wrapper, and its command's pid.
struct Holder {
  pid_t wrapper = -1;
  pid_t command = -1;
};
Holder start_holder(const Tool& tool, const std::string& lock, const std::string& stamp);
// kill -9 to wrapper and command; reaps the wrapper.
void kill_holder(const Holder& holder);

// `buildlock status` on a directory of `locks` locks: half held (kernel lock held by this
// process, metadata of a live holder), half orphaned. The flock(1) column is util-linux
// `lslocks` listing the same held kernel locks; it is empty without `lslocks`.
struct StatusTiming {
  PerTool wall_ms;
  int held = 0;
};
StatusTiming measure_status(const std::string& buildlock, const std::string& lslocks,
                            const std::string& stamp, const std::string& directory, int locks,
                            int repetitions);

} // namespace buildlock::bench
