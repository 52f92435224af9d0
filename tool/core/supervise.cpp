#include "core/supervise.h"

#include "os/clock.h"

#include <algorithm>

namespace buildlock::core {
namespace {

Result<os::ExitStatus> run_one(const std::vector<std::string>& argv, const SuperviseRequest& request,
                               os::SignalHandling& signals, int& interrupting_signal) {
  auto child = os::ChildProcess::spawn(argv, request.environment);
  if (!child) {
    return child.error();
  }
  const auto interval = std::chrono::duration_cast<os::MonotonicClock::duration>(
      std::max<Seconds>(request.heartbeat_interval, std::chrono::milliseconds(50)));
  os::TimePoint next_heartbeat = os::monotonic_now() + interval;
  for (;;) {
    if (auto status = child->poll()) {
      return *status;
    }
    signals.wait_for_signal(next_heartbeat);
    for (const os::ReceivedSignal& received : signals.take_signals()) {
      interrupting_signal = received.number;
      if (received.sent_by_process) {
        child->send_signal(received.number);
      }
    }
    if (os::monotonic_now() >= next_heartbeat) {
      if (request.heartbeat) {
        request.heartbeat();
      }
      next_heartbeat = os::monotonic_now() + interval;
    }
  }
}

} // namespace

Result<SuperviseOutcome> supervise(const SuperviseRequest& request, os::SignalHandling& signals) {
  SuperviseOutcome outcome;
  // A signal that arrived before the first command started: do not start it at all.
  for (const os::ReceivedSignal& received : signals.take_signals()) {
    outcome.interrupting_signal = received.number;
  }
  if (outcome.interrupting_signal != 0) {
    outcome.status = {true, outcome.interrupting_signal};
    return outcome;
  }
  for (const auto& argv : request.commands) {
    auto status = run_one(argv, request, signals, outcome.interrupting_signal);
    if (!status) {
      return status.error();
    }
    outcome.status = *status;
    if (outcome.status.signaled || outcome.status.code != 0 || outcome.interrupting_signal != 0) {
      break;
    }
  }
  return outcome;
}

} // namespace buildlock::core
