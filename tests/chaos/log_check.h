// The invariants, checked from the critical sections' append-only log (format in chaos_holder.cpp).
//
// Two checks, because a log alone cannot say when a killed holder stopped being inside:
// - live: each `enter` line carries the verdict of the holder's own detector lock, which is exact
//   for killed holders (released at death) and stopped ones (kept while stopped);
// - intervals: the holders that logged both lines were inside at least from `enter` to `leave`,
//   so no `enter` may fall within too many of those intervals (all but one for --slots N, any for
//   exclusive, any writer's for a --shared reader).
// - counts: each `enter` also says how many other runs its detector counted. Its time is taken
//   under the detectors' census, after the count, so every run with an earlier `enter` and a later
//   `leave` was marked during the count: a count below the number of such runs is a detector that
//   misses holders (an undercount), which would hide overlaps.
#pragma once

#include "options.h"

#include <string>
#include <vector>

namespace buildlock::chaos {

struct LogReport {
  int entered = 0;    // critical sections entered (one per process of a command tree)
  int left = 0;       // ... and left normally
  int cut_short = 0;  // ... entered and never left: the holder was killed inside
  int max_inside = 0; // most runs inside at once among complete intervals (readers, slots)
  int live_overlaps = 0;
  int interval_overlaps = 0;
  int undercounts = 0; // enters whose detector counted fewer runs than the log proves inside
  int malformed = 0;   // lines that do not parse or do not pair up
  std::vector<std::string> violations; // the first few of each kind, and malformed lines
};

LogReport check_log(const std::string& path, Variant variant, int slots);

// While the chaos runs: critical sections entered so far, and those certainly cut short (entered,
// never left, and the process is gone: it can never log its `leave`). Never more than check_log()
// counts at the end, so activity floors met by these are met.
struct LiveSections {
  int entered = 0;
  int cut_short = 0;
};
LiveSections count_live_sections(const std::string& path);

} // namespace buildlock::chaos
