// Reading traces back for `buildlock report`: the files `run --trace` / BUILDLOCK_TRACE wrote
// (core/trace_events.h), any number of them, merged.
#pragma once

#include "core/messages.h"
#include "os/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace buildlock::core {

struct TraceEvent {
  enum class Kind { wait, hold, lost };
  Kind kind = Kind::wait;
  std::size_t file = 0; // index of the file it was read from
  std::string lock;
  std::string store;
  std::string mode;
  std::string host;
  std::int64_t build = 0; // pid of the build (the trace's `pid`)
  std::int64_t run = 0;   // pid of the run (`tid`)
  std::int64_t ts_us = 0;
  std::int64_t dur_us = 0; // 0 for `lost`
  std::string command;
  // wait: "acquired", "timeout" or "error"; whom it waited behind and what it reclaimed.
  std::string outcome;
  struct Blocker {
    std::string text;
    std::int64_t pid = 0; // 0: unknown
    std::string host;
    std::string command;
  };
  std::vector<Blocker> behind;
  std::vector<std::string> reclaimed;
  // hold: how the command ended.
  bool signaled = false;
  int code = 0;
  bool lost = false;
};

// The buildlock events of `paths`, in file order. Other events (a trace merged with another
// tool's) are skipped. A last line without its end (a writer killed mid-write, a file copied
// while written) is skipped with a warning. Errors (ErrorKind::input), naming file and line: a
// file that cannot be read, does not start with "[", or has a line that is not an event.
Result<std::vector<TraceEvent>> read_traces(const std::vector<std::string>& paths,
                                            const Messages& messages);

} // namespace buildlock::core
