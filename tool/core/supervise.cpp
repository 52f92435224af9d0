#include "core/supervise.h"

#include "os/clock.h"
#include "os/process_identity.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>

namespace buildlock::core {
namespace {

using namespace std::chrono_literals;

// How often the parent is looked at, and how often a tree being stopped is looked at again for
// processes started after the last look.
constexpr auto parent_check_interval = 200ms;
constexpr auto descendant_rescan_interval = 50ms;

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

// One command of the sequence, from its start until nothing it started is left running (or, on a
// normal exit, until it exits).
class CommandRun {
public:
  CommandRun(const SuperviseRequest& request, os::SignalHandling& signals,
             SuperviseOutcome& outcome, bool own_process_group)
      : request_(request), signals_(signals), outcome_(outcome),
        own_process_group_(own_process_group),
        heartbeat_interval_(std::chrono::duration_cast<os::MonotonicClock::duration>(
            std::max<Seconds>(request.heartbeat_interval, std::chrono::milliseconds(50)))),
        kill_after_(std::chrono::duration_cast<os::MonotonicClock::duration>(request.kill_after)),
        kill_after_if_lost_(
            std::chrono::duration_cast<os::MonotonicClock::duration>(request.kill_after_if_lost)) {}

  Result<os::ExitStatus> run(const std::vector<std::string>& argv) {
    auto child = os::ChildProcess::spawn(argv, request_.environment, own_process_group_);
    if (!child) {
      return child.error();
    }
    next_heartbeat_ = os::monotonic_now() + heartbeat_interval_;
    if (request_.started) {
      request_.started();
    }
    const os::ExitStatus status = wait_for_command(*child);
    const std::optional<int> death = os::death_signal(status);
    if (death || stop_signal_ != 0) {
      int signal = stop_signal_ != 0 ? stop_signal_ : os::terminate_signal();
      if (death) {
        signal = os::is_stop_signal(*death) ? *death : os::terminate_signal();
      }
      stop_descendants(*child, signal, group_signalled_with(signal));
    } else if (request_.list_leftovers) {
      outcome_.leftovers = os::live_descendants(child->process_group());
    }
    return status;
  }

private:
  os::ExitStatus wait_for_command(os::ChildProcess& child) {
    std::optional<ParentWatch> parent_watch;
    if (request_.die_with_parent) {
      parent_watch.emplace();
    }
    os::TimePoint kill_at = os::TimePoint::max(); // when the stopping signal was not enough
    for (;;) {
      if (auto status = child.poll()) {
        return *status;
      }
      os::TimePoint wake_at = std::min(next_heartbeat_, kill_at);
      if (parent_watch) {
        wake_at = std::min(wake_at, os::monotonic_now() + parent_check_interval);
      }
      signals_.wait_for_signal(wake_at);
      if (parent_watch && !outcome_.parent_gone && parent_watch->gone()) {
        outcome_.parent_gone = true;
        stop(child, os::terminate_signal(), kill_at);
      }
      if (os::monotonic_now() >= kill_at) {
        child.send_signal(os::kill_signal());
        kill_at = os::TimePoint::max();
      }
      for (const os::ReceivedSignal& received : signals_.take_signals()) {
        outcome_.interrupting_signal = received.number;
        // Ctrl+C reached a command in our group from the kernel already; one in a group of its
        // own gets it from us alone.
        if (received.sent_by_process || own_process_group_) {
          pass_on(child, received.number);
        } else {
          groups_signalled_.push_back({os::own_process_group(), received.number});
        }
        if (os::is_stop_signal(received.number)) {
          stop_signal_ = received.number;
        }
      }
      if (!heartbeat() && request_.stop_if_lost) {
        // Writing on under a lock someone else now holds could corrupt what it protects.
        // Once: after the SIGKILL (kill_at back at max) it is not asked to stop again.
        if (kill_at == os::TimePoint::max() && stop_signal_ == 0) {
          stop(child, os::terminate_signal(), kill_at);
        }
        if (kill_at != os::TimePoint::max()) {
          kill_at = std::min(kill_at, lost_kill_at_);
        }
      }
    }
  }

  // Sends `signal` to the command (its group, when it has one), and remembers that the group got
  // it, so that stop_descendants() does not send it to those members again.
  void pass_on(os::ChildProcess& child, int signal) {
    child.send_signal(signal);
    if (own_process_group_) {
      groups_signalled_.push_back({child.process_group(), signal});
    }
  }

  void stop(os::ChildProcess& child, int signal, os::TimePoint& kill_at) {
    pass_on(child, signal);
    stop_signal_ = signal;
    kill_at = os::monotonic_now() + kill_after_;
  }

  // A process group that got `signal` as a whole already (passed on by us, or Ctrl+C from the
  // terminal): its members are not sent it a second time. 0 when none.
  std::int64_t group_signalled_with(int signal) const {
    for (const auto& [group, number] : groups_signalled_) {
      if (number == signal) {
        return group;
      }
    }
    return 0;
  }

  // The command has ended by a signal or was stopped: what it started must not run on after the
  // lock is released. Every descendant gets `signal` once (and SIGCONT, in case it is stopped),
  // newcomers as they are found, everyone SIGKILL once `kill_after` has passed (or at once when
  // another stopping signal arrives: the user insists). Returns when no child is left; since
  // orphans are adopted, no descendant is left either.
  void stop_descendants(os::ChildProcess& child, int signal, std::int64_t group_signalled) {
    os::TimePoint kill_at = std::min(os::monotonic_now() + kill_after_, lost_kill_at_);
    bool killing = signal == os::kill_signal();
    // Every process signalled, so that none gets it twice; by pid and start time, since a pid
    // freed meanwhile may be a newcomer's now.
    std::set<std::pair<std::int64_t, std::uint64_t>> stopped;
    std::set<std::pair<std::int64_t, std::uint64_t>> killed;
    for (;;) {
      child.poll();
      if (!child.children_remain()) {
        break;
      }
      killing = killing || os::monotonic_now() >= kill_at;
      for (const os::Descendant& descendant : os::live_descendants(child.process_group())) {
        const std::pair identity{descendant.pid, descendant.start_time.value_or(0)};
        const bool first_time = stopped.insert(identity).second;
        if (killing) {
          killed.insert(identity);
          os::signal_and_continue(descendant, os::kill_signal()); // harmless to repeat
        } else if (first_time) {
          if (group_signalled != 0 && descendant.process_group == group_signalled) {
            os::continue_process(descendant); // got `signal` with its group
          } else {
            os::signal_and_continue(descendant, signal);
          }
        }
      }
      outcome_.descendants_stopped = stopped.size();
      outcome_.descendants_killed = killed.size();
      signals_.wait_for_signal(std::min(killing ? os::TimePoint::max() : kill_at,
                                        os::monotonic_now() + descendant_rescan_interval));
      for (const os::ReceivedSignal& received : signals_.take_signals()) {
        outcome_.interrupting_signal = received.number;
        killing = killing || os::is_stop_signal(received.number);
      }
      if (!heartbeat() && request_.stop_if_lost) {
        kill_at = std::min(kill_at, lost_kill_at_);
      }
    }
  }

  // Keeps the lock's heartbeat while anything runs under it; false once the lock is lost.
  bool heartbeat() {
    if (os::monotonic_now() < next_heartbeat_) {
      return !outcome_.lock_lost;
    }
    next_heartbeat_ = os::monotonic_now() + heartbeat_interval_;
    if (request_.heartbeat && !outcome_.lock_lost && !request_.heartbeat()) {
      outcome_.lock_lost = true;
      // A lost lock may leave less time than --kill-after (etcd: the lease ends soon).
      if (request_.stop_if_lost) {
        lost_kill_at_ = os::monotonic_now() + std::min(kill_after_, kill_after_if_lost_);
      }
    }
    return !outcome_.lock_lost;
  }

  const SuperviseRequest& request_;
  os::SignalHandling& signals_;
  SuperviseOutcome& outcome_;
  const bool own_process_group_;
  const os::MonotonicClock::duration heartbeat_interval_;
  const os::MonotonicClock::duration kill_after_;
  const os::MonotonicClock::duration kill_after_if_lost_;
  os::TimePoint lost_kill_at_ = os::TimePoint::max(); // SIGKILL by then once the lock is lost
  os::TimePoint next_heartbeat_{};
  int stop_signal_ = 0; // the signal the command was asked to stop with, if it was
  std::vector<std::pair<std::int64_t, int>> groups_signalled_; // (process group, signal)
};

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
  // A group of its own for the command only where a group kill is aimed at buildlock's job alone
  // (ninja makes a group for each step and interrupts it with kill(-pgid, SIGINT)): there, the
  // command would get the signal twice, from the sender and from us. Where buildlock shares its
  // parent's group (make, cmake's execute_process, a script, timeout(1)), a group kill is aimed
  // at the whole build, and `kill -9` of that group must take the command down too, which only a
  // shared group does. At a terminal's foreground the command must share the group to read it.
  // (os::command_in_own_group() says which, and what differs on Windows.)
  const bool own_process_group = os::command_in_own_group();
  for (std::size_t i = 0; i < request.commands.size(); ++i) {
    CommandRun command(request, signals, outcome, own_process_group);
    auto status = command.run(request.commands[i]);
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
      const int signal =
          outcome.interrupting_signal != 0 ? outcome.interrupting_signal : os::terminate_signal();
      outcome.status = {true, signal};
      break;
    }
  }
  return outcome;
}

} // namespace buildlock::core
