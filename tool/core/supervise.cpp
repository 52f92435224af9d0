#include "core/supervise.h"

#include "os/clock.h"
#include "os/process_identity.h"

#include <algorithm>
#include <csignal>

namespace buildlock::core {
namespace {

using namespace std::chrono_literals;

// How often the parent is looked at, and how long a command gets between SIGTERM and SIGKILL.
constexpr auto parent_check_interval = 200ms;
constexpr auto termination_grace = 5s;

// Build tools run commands through a shell (ninja: `/bin/sh -c`, make for most recipes), and the
// shell waits for buildlock even after the build tool itself was killed. So "the build is gone"
// means: our parent exited, or our parent's parent did (the shell was re-parented).
class ParentWatch {
public:
  ParentWatch() : parent_(os::parent_pid()), grandparent_(os::parent_of(parent_)) {}

  bool gone() const {
    return os::parent_pid() != parent_ || os::parent_of(parent_) != grandparent_;
  }

private:
  std::int64_t parent_;
  std::optional<std::int64_t> grandparent_;
};

Result<os::ExitStatus> run_one(const std::vector<std::string>& argv,
                               const SuperviseRequest& request, os::SignalHandling& signals,
                               SuperviseOutcome& outcome) {
  auto child = os::ChildProcess::spawn(argv, request.environment);
  if (!child) {
    return child.error();
  }
  const auto interval = std::chrono::duration_cast<os::MonotonicClock::duration>(
      std::max<Seconds>(request.heartbeat_interval, std::chrono::milliseconds(50)));
  os::TimePoint next_heartbeat = os::monotonic_now() + interval;
  std::optional<ParentWatch> parent_watch;
  if (request.die_with_parent) {
    parent_watch.emplace();
  }
  os::TimePoint kill_at = os::TimePoint::max(); // when SIGTERM was not enough
  for (;;) {
    if (auto status = child->poll()) {
      return *status;
    }
    os::TimePoint wake_at = next_heartbeat;
    if (parent_watch) {
      wake_at = std::min(wake_at, os::monotonic_now() + parent_check_interval);
    }
    wake_at = std::min(wake_at, kill_at);
    signals.wait_for_signal(wake_at);
    if (parent_watch && !outcome.parent_gone && parent_watch->gone()) {
      outcome.parent_gone = true;
      child->send_signal(SIGTERM);
      kill_at = os::monotonic_now() + termination_grace;
    }
    if (os::monotonic_now() >= kill_at) {
      child->send_signal(SIGKILL);
      kill_at = os::TimePoint::max();
    }
    for (const os::ReceivedSignal& received : signals.take_signals()) {
      outcome.interrupting_signal = received.number;
      if (received.sent_by_process) {
        child->send_signal(received.number);
      }
    }
    if (os::monotonic_now() >= next_heartbeat) {
      if (request.heartbeat && !outcome.lock_lost && !request.heartbeat()) {
        outcome.lock_lost = true;
        if (request.stop_if_lost && kill_at == os::TimePoint::max()) {
          // Writing on under a lock someone else now holds could corrupt what it protects.
          child->send_signal(SIGTERM);
          kill_at = os::monotonic_now() + termination_grace;
        }
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
  for (std::size_t i = 0; i < request.commands.size(); ++i) {
    auto status = run_one(request.commands[i], request, signals, outcome);
    if (!status) {
      return status.error();
    }
    outcome.status = *status;
    if (outcome.status.signaled || outcome.status.code != 0) {
      break;
    }
    const bool more_to_run = i + 1 < request.commands.size();
    if (more_to_run && (outcome.interrupting_signal != 0 || outcome.parent_gone ||
                        (outcome.lock_lost && request.stop_if_lost))) {
      // The command survived the signal, but the rest of the sequence must not run, and the
      // caller must not report success for commands that never ran.
      const int signal = outcome.interrupting_signal != 0 ? outcome.interrupting_signal : SIGTERM;
      outcome.status = {true, signal};
      break;
    }
  }
  return outcome;
}

} // namespace buildlock::core
