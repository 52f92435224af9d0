// The data file and, when gnuplot is available, the PNGs of handoff latency and throughput
// against the number of contending processes.
#pragma once

#include "stats.h"

#include <string>
#include <vector>

namespace buildlock::bench {

struct PlotPoint {
  int processes = 0;
  Summary handoff_ms[2]; // [buildlock, flock(1)]
  double rate[2] = {0, 0};
};

// Writes `directory`/performance.dat, then performance-handoff.png and
// performance-throughput.png with `gnuplot` (skipped when empty). Returns what was written.
std::vector<std::string> write_plots(const std::string& directory,
                                     const std::vector<PlotPoint>& points,
                                     const std::string& gnuplot, const std::string& subtitle);

} // namespace buildlock::bench
