// The trace of one `run` (--trace FILE, BUILDLOCK_TRACE): its wait and its hold appended to a file
// that any number of concurrent runs share (core/trace_events.h says what is written).
//
// Exists only when a trace is asked for, so an untraced run costs nothing: no call, no allocation.
// A traced one costs at most two write()s: the wait once the lock is taken (or given up), the
// hold (with a LOCK LOST before it, in the same write) at the release. A trace that cannot be
// written is warned about once and never stops the command: it is an observation, not the job.
#pragma once

#include "core/messages.h"
#include "core/trace_events.h"
#include "core/wait_record.h"
#include "os/fd.h"

#include <optional>
#include <string>

namespace buildlock::core {

// The variable that asks for a trace (--trace wins over it), and that groups the runs of a build.
inline constexpr const char* trace_variable = "BUILDLOCK_TRACE";

class RunTrace {
public:
  // Opens `path` for appending, creating it first if missing (complete with its header, under a
  // temporary name that is then linked into place: no run can append before the header), and
  // notes the arrival. Nullopt, after a warning, when it cannot be opened. `subject.build` and
  // `.run` are filled in here.
  static std::optional<RunTrace> start(const std::string& path, TraceSubject subject,
                                       const Messages& messages);

  // Where the acquisition notes whom it waits behind (AcquireRequest::wait_record).
  WaitRecord* wait_record() { return &record_; }

  // The lock is held: writes the wait, and the hold starts now.
  void acquired();
  // Waiting ended without the lock: writes the wait with its outcome.
  void gave_up(WaitOutcome outcome, const std::string& error);
  // The lock was taken away while the command ran; written with the hold.
  void lost(const std::string& why);
  // The lock is about to be released: writes the hold, once. Called right before the release, so
  // that a hold never ends in the trace after the next holder's has begun.
  void released(bool signaled, int code);

private:
  RunTrace(os::Fd file, std::string path, TraceSubject subject, const Messages& messages);
  void append(const std::string& lines);

  os::Fd file_;
  std::string path_;
  TraceSubject subject_;
  const Messages* messages_;
  WaitRecord record_;
  std::int64_t arrived_us_ = 0;
  std::optional<std::int64_t> acquired_us_;
  HoldEnd end_;
  bool hold_written_ = false;
  bool failure_reported_ = false;
};

} // namespace buildlock::core
