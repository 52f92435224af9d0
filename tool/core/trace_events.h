// The lines of a trace (`run --trace FILE`, BUILDLOCK_TRACE): Chrome's Trace Event Format in its
// JSON Array form, which Perfetto and chrome://tracing open. The file starts with "[" and every
// event is one line ending in ",": the format's closing "]" is optional, so a file any number of
// runs are still appending to is always a complete trace. docs/cli.md describes every field.
//
//   pid  the build: the outermost process whose environment sets BUILDLOCK_TRACE (a run's own pid
//        with --trace alone), so that one build's runs share a process track
//   tid  the run: buildlock's own pid, one thread track per run
//   ts   microseconds since the epoch, CLOCK_REALTIME: the one clock every process on a host shares
#pragma once

#include "core/metadata.h"
#include "core/wait_record.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

// What the file starts with; written once, by whoever creates it (core/run_trace.cpp).
inline constexpr const char* trace_header = "[\n";

// The event categories, which `report` reads back (core/trace_reading.h).
inline constexpr const char* trace_wait_category = "buildlock.wait";
inline constexpr const char* trace_hold_category = "buildlock.hold";
inline constexpr const char* trace_lost_category = "buildlock.lost";

// Who waits and holds, the same in every event of one run.
struct TraceSubject {
  std::int64_t build = 0; // pid of the build (see above)
  std::int64_t run = 0;   // pid of this buildlock run
  std::string host;
  std::string lock;
  LockMode mode = LockMode::exclusive;
  int slots = 0;
  std::string store; // the lock directory, or the etcd:// location
  std::vector<std::string> command;
};

// How a wait ended.
enum class WaitOutcome { acquired, timeout, error };

// The run's names for the viewers (thread_name, process_name) and the wait, from arrival to the
// acquisition, or to giving up (`error`: the message then).
std::string wait_lines(const TraceSubject& subject, std::int64_t arrived_us, std::int64_t ended_us,
                       const WaitRecord& record, WaitOutcome outcome, const std::string& error);

// How a hold ended, for its event.
struct HoldEnd {
  bool signaled = false; // the command died of signal `code`
  int code = 0;          // its exit status (76: buildlock's, after a lost lock)
  // Set when the lock was taken away while the command ran: when (us) and why.
  std::optional<std::int64_t> lost_us;
  std::string lost_why;
};

// The LOCK LOST instant (when it was) and the hold, from the acquisition to the release.
std::string hold_lines(const TraceSubject& subject, std::int64_t acquired_us,
                       std::int64_t released_us, const HoldEnd& end);

} // namespace buildlock::core
