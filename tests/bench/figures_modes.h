// From the shared, slotted and reader/writer measurements (scenarios_modes.h) to rows of the
// report: shared and slotted throughput beside exclusive, on the same workload (issue 5).
#pragma once

#include "config.h"
#include "report.h"
#include "setup.h"

namespace buildlock::bench {

// P processes (config.sizes.processes) holding one lock shared, against flock -s; and the same
// workload held exclusively by both tools.
void add_shared(Report& report, const Setup& setup, const Config& config);

// `--slots N` for each N of config.sizes.slot_counts, against the ideal: N slots always full.
void add_slots(Report& report, const Setup& setup, const Config& config);

// The wait of an exclusive run among shared runs that keep coming, against flock(1).
void add_writer(Report& report, const Setup& setup, const Config& config);

} // namespace buildlock::bench
