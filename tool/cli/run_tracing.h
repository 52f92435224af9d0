// What `run` tells its trace (core/run_trace.h), kept out of run_command.cpp: the trace asked for,
// the end of the wait, the LOCK LOST, and every release. Each takes a null trace (no trace asked
// for) and then does nothing.
#pragma once

#include "cli/run_command.h"
#include "core/acquire.h"
#include "core/messages.h"
#include "core/run_trace.h"

#include <optional>
#include <string>

namespace buildlock::cli {

// The trace that --trace, else $BUILDLOCK_TRACE, asks for, started (its arrival noted); nullopt
// when neither asks (then nothing but a getenv() was done: no call, no allocation) or the file
// cannot be written (after a warning: the run goes on without it).
std::optional<core::RunTrace> start_trace(const RunOptions& options,
                                          const core::AcquireRequest& request,
                                          const core::Messages& messages);

// The trace started, if any, made the place where the acquisition of `request` notes whom it
// waits behind (AcquireRequest::wait_record); null when there is none.
inline core::RunTrace* attach_trace(std::optional<core::RunTrace>& trace,
                                    core::AcquireRequest& request) {
  if (!trace) {
    return nullptr;
  }
  request.wait_record = trace->wait_record();
  return &*trace;
}

// The end of the wait: acquired, timed out, or given up on another error.
template <class Lock> void trace_acquisition(core::RunTrace* trace, const Result<Lock>& lock) {
  if (trace == nullptr) {
    return;
  }
  if (lock) {
    trace->acquired();
  } else {
    trace->gave_up(lock.error().kind == ErrorKind::timeout ? core::WaitOutcome::timeout
                                                           : core::WaitOutcome::error,
                   lock.error().message);
  }
}

// The hold ends as (signaled, code) says. Called right before each release, so that a hold in
// the trace never ends after the next holder's has begun.
inline void trace_release(core::RunTrace* trace, bool signaled, int code) {
  if (trace != nullptr) {
    trace->released(signaled, code);
  }
}

// Releases `lock` (core::HeldLock or etcd::EtcdHold) after the command did not end its own way,
// and returns `status` to end with.
template <class Lock>
int traced_release(Lock& lock, int status, const core::Messages& messages, core::RunTrace* trace) {
  trace_release(trace, false, status);
  lock.release(&messages);
  return status;
}

inline void trace_lost(core::RunTrace* trace, const std::string& why) {
  if (trace != nullptr) {
    trace->lost(why);
  }
}

} // namespace buildlock::cli
