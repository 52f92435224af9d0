// Signal handling for a wrapper that must (a) die promptly and cleanly while it only waits,
// (b) never die half-way through creating or removing a lock file, and (c) pass signals on to its
// command while it holds the lock, then die the way the command died.
//
// One process-wide SignalHandling object owns the handlers; RAII restores the previous ones.
#pragma once

#include "os/clock.h"

#include <optional>
#include <vector>

namespace buildlock::os {

// The signals a wrapper passes on to its command: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
// SIGUSR2.
const std::vector<int>& forwarded_signals();

// What to do when a forwarded signal arrives.
enum class TerminationMode {
  die,    // nothing to clean up: die by that signal at once (while waiting for a lock)
  record, // remember it for take_signals() (while holding a lock)
};

struct ReceivedSignal {
  int number = 0;
  // Sent by a process with kill(). Otherwise the kernel generated it (e.g. Ctrl+C at a terminal),
  // and every process in the foreground process group, the command included, got it too.
  bool sent_by_process = false;
};

class SignalHandling {
public:
  // Installs handlers for the forwarded signals, SIGCHLD and SIGALRM. Signals that were ignored
  // when buildlock started stay ignored (for it and, through exec, for the command).
  SignalHandling();
  ~SignalHandling();
  SignalHandling(const SignalHandling&) = delete;
  SignalHandling& operator=(const SignalHandling&) = delete;

  void set_mode(TerminationMode mode);

  // Readable whenever a signal was recorded (forwarded ones in `record` mode, and SIGCHLD).
  int wake_fd() const;
  // Waits until wake_fd() is readable or `deadline` passes.
  void wait_for_signal(TimePoint deadline) const;
  // The forwarded signals recorded since the last call; SIGCHLD wake-ups are consumed silently.
  std::vector<ReceivedSignal> take_signals();

  // Interrupts blocking calls (EINTR) at `first`, and then every 100 ms in case a blocking call
  // was entered just after the alarm fired.
  void arm_alarm(TimePoint first);
  void disarm_alarm();
};

// Signals buildlock ignores for itself but the command must get with their default action
// (SIGPIPE: buildlock must never die half-way through a release because a build tool that read
// its stderr is gone).
const std::vector<int>& signals_to_default_in_command();

// Blocks the forwarded signals for its lifetime, so that a sequence of file operations is never
// cut in half; pending signals are delivered when it ends.
class DeferSignals {
public:
  DeferSignals();
  ~DeferSignals();
  DeferSignals(const DeferSignals&) = delete;
  DeferSignals& operator=(const DeferSignals&) = delete;

private:
  alignas(8) unsigned char previous_mask_[128]; // a sigset_t, kept opaque to keep <csignal> out
};

// Ends this process by `signal` with its default action (no core dump from the wrapper), so that
// the parent sees a signal death; falls back to exit(128 + signal).
[[noreturn]] void die_by_signal(int signal);

} // namespace buildlock::os
