// `report --svg FILE`: the merged traces as a timeline a person reads at a glance, one
// self-contained SVG (no script, no external reference) that a browser opens.
//
//   a lane per lock      its name on the left; holds that overlap (shared, slots) in rows
//   holds                bars, labelled with the run's pid and command where they fit; a lost
//                        lock's bar is outlined red, with a red mark where it was lost
//   waits                thin bars in rows under the holds, ending in a line to the hold bar of
//                        whom they waited behind (when that run's hold is in the traces);
//                        a timed-out wait is orange
//   reclaims             a red cross at the end of the wait that reclaimed
//
// Every bar carries data-kind, data-lock, data-run, data-ts and data-dur (microseconds), and a
// <title> with the details, so that tools (and the tests) can match it to its event.
#pragma once

#include "core/trace_reading.h"

#include <string>
#include <vector>

namespace buildlock::core {

std::string timeline_svg(const std::vector<TraceEvent>& events);

} // namespace buildlock::core
