// From scenarios to rows of the report. Directories of different sizes are measured in
// alternating chunks, so that a change of machine load during the run hits them alike and the
// growth with the number of locks is not an artefact of when each was measured.
#pragma once

#include "config.h"
#include "plot.h"
#include "report.h"
#include "setup.h"

#include <string>
#include <vector>

namespace buildlock::bench {

// Prints on stderr what is measured next, with the load average.
void progress(const std::string& what);

// One setup per entry of `unrelated`, its directories filled with that many other locks.
std::vector<Setup> make_setups(const Config& config, const std::vector<int>& unrelated);

void add_uncontended(Report& report, const std::vector<Setup>& setups, const Config& config);

// Returns the points to plot, from the first setup.
std::vector<PlotPoint> add_contention(Report& report, const std::vector<Setup>& setups,
                                      const Config& config);

void add_status(Report& report, const Config& config);

} // namespace buildlock::bench
