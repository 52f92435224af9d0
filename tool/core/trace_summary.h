// The figures of `buildlock report`, computed from the events of merged traces
// (core/trace_reading.h): per lock, what its waits cost and who held it; per build, how long it
// waited. Durations in microseconds, as in the trace.
#pragma once

#include "core/trace_reading.h"

#include <cstdint>
#include <string>
#include <vector>

namespace buildlock::core {

// Longest waits listed per lock.
inline constexpr std::size_t longest_waits_listed = 5;

struct WaitFigures {
  std::size_t count = 0;
  std::int64_t total_us = 0;
  // Nearest rank: the smallest wait that at least half (95 %) of the waits do not exceed.
  std::int64_t median_us = 0;
  std::int64_t p95_us = 0;
  std::int64_t max_us = 0;
};

struct CommandHolds {
  std::string command;
  std::size_t holds = 0;
  std::int64_t total_us = 0;
  std::int64_t max_us = 0;
};

struct LockSummary {
  std::string lock;
  std::string store;
  std::size_t acquisitions = 0; // waits that ended with the lock
  std::size_t timeouts = 0;
  std::size_t errors = 0;                 // waits given up on another error (a mode conflict, ...)
  std::size_t lost = 0;                   // LOCK LOST events
  WaitFigures waits;                      // every wait, however it ended
  std::vector<const TraceEvent*> longest; // longest first, at most longest_waits_listed
  std::vector<CommandHolds> holds;        // most total hold time first
  std::vector<std::string> reclaims;      // as the waits recorded them, in time order
};

struct BuildSummary {
  std::string file; // the trace file the build's events are in
  std::string host;
  std::int64_t build = 0;
  std::size_t runs = 0; // waits (one per traced run)
  std::int64_t waited_us = 0;
  std::int64_t longest_wait_us = 0;
};

struct TraceSummary {
  std::vector<LockSummary> locks;   // most total wait first
  std::vector<BuildSummary> builds; // most waited first
};

// A command for people (a table, a bar's label): each word that is a path by its last name
// (`/src/tools/store.sh /cache/locked a-7` reads `store.sh locked a-7`), one line, at most
// 60 characters.
std::string short_command(const std::string& command);

// `events` must outlive the summary (longest waits point into it); `paths` names the files.
TraceSummary summarize(const std::vector<TraceEvent>& events,
                       const std::vector<std::string>& paths);

} // namespace buildlock::core
