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

// Signals are the platform's own numbers (ReceivedSignal::number, ExitStatus::code when
// `signaled`), named here by what they ask, so that code outside os/ never names a platform's
// signals. On POSIX they are SIGINT, SIGTERM and SIGKILL. Windows has console control events and
// process termination instead: os/windows/signals.cpp numbers them (Ctrl+C, Ctrl+Break, the
// console closing, TerminateJobObject) with the POSIX numbers of the same meaning.
int interrupt_signal(); // the user pressed Ctrl+C
int terminate_signal(); // stop, politely: the process may clean up
int kill_signal();      // stop at once, no clean-up possible

// How messages and --help name the kill ("SIGKILL"; Windows: "TerminateProcess"), and how
// buildlock stops a command on a decision of its own (a gone parent, a lost lock): "SIGTERM,
// SIGKILL --kill-after later"; on Windows at once, since no event reaches only the command.
const char* kill_signal_name();
const char* own_stop_description();

// True for the signals that ask a program to stop (on POSIX every forwarded signal but SIGUSR1,
// SIGUSR2 and SIGPIPE, which programs also use as messages, plus SIGKILL; on Windows every
// console control event and the kill). Any other death (SIGSEGV, SIGABRT, SIGPIPE...) is passed
// to the rest of a command's tree as terminate_signal(): the rest did not crash.
bool is_stop_signal(int signal);

// The signals a wrapper passes on to its command: on POSIX every signal whose default action
// ends a process and that can be caught, except those the kernel sends a program that crashed
// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT): SIGINT, SIGTERM, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGPWR, SIGSTKFLT,
// SIGIO and the real-time signals (the list in docs/cli.md). Windows: Ctrl+C, Ctrl+Break and the
// console closing.
const std::vector<int>& forwarded_signals();

// What to do when a forwarded signal arrives.
enum class TerminationMode {
  die,    // nothing to clean up: die by that signal at once (while waiting for a lock)
  record, // remember it for take_signals() (while holding a lock)
};

struct ReceivedSignal {
  int number = 0;
  // Sent by a process with kill(), or by the kernel to this process alone (SIGXCPU past
  // RLIMIT_CPU). Otherwise the kernel generated it for a whole process group (Ctrl+C or a
  // hang-up at a terminal, an orphaned process group's SIGHUP), and every process of the group,
  // the command included, got it too.
  bool sent_by_process = false;
};

class SignalHandling {
public:
  // Installs handlers for the forwarded signals and SIGCHLD. Signals that were ignored when
  // buildlock started stay ignored (for it and, through exec, for the command). Signals that
  // programs also use for their own purposes (all but SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
  // SIGUSR2, SIGALRM) are taken over only from their default action. POSIX: SIGPIPE and SIGXFSZ
  // that buildlock's own writes raise are ignored (the write fails instead), and SIGALRM from
  // arm_alarm()'s timer only interrupts a blocking call; sent by a process, they are forwarded.
  SignalHandling();
  ~SignalHandling();
  SignalHandling(const SignalHandling&) = delete;
  SignalHandling& operator=(const SignalHandling&) = delete;

  void set_mode(TerminationMode mode);

  // A descriptor that becomes readable whenever a signal is recorded, for waits that poll
  // descriptors of their own (the etcd watch); -1 where the platform has none (Windows: such a
  // wait then ends at its deadline, and a console event in a wait ends buildlock at once).
  int wake_fd() const;
  // Waits until a signal was recorded (a forwarded one in `record` mode), a child of this
  // process ended, or `deadline` passes.
  void wait_for_signal(TimePoint deadline) const;
  // The forwarded signals recorded since the last call; SIGCHLD wake-ups are consumed silently.
  std::vector<ReceivedSignal> take_signals();

  // Interrupts blocking calls (EINTR) at `first`, and then every 100 ms in case a blocking call
  // was entered just after the alarm fired.
  void arm_alarm(TimePoint first);
  void disarm_alarm();
};

// Signals the command must get with their default action whatever buildlock does with them
// (SIGPIPE: buildlock ignores the ones its own writes raise, so that it never dies half-way
// through a release because a build tool that read its stderr is gone).
const std::vector<int>& signals_to_default_in_command();

// Blocks the forwarded signals for its lifetime, so that a sequence of file operations is never
// cut in half; pending signals are delivered when it ends.
class DeferSignals {
public:
  DeferSignals();
  ~DeferSignals();
  DeferSignals(const DeferSignals&) = delete;
  DeferSignals& operator=(const DeferSignals&) = delete;

#if !defined(_WIN32) // Windows holds events back with a count (os/windows/signals.cpp)
private:
  alignas(8) unsigned char previous_mask_[128]; // a sigset_t, kept opaque to keep <csignal> out
#endif
};

#if !defined(_WIN32)
// For the child that starts a command (os/posix/child_process.cpp), which shares this process's
// memory and handlers until its exec: between the two calls, a handler of ours that runs in that
// child (not in this process) gives its signal the default action instead of recording it.
void enter_spawned_child();
void leave_spawned_child();
#endif

// Ends this process by `signal` with its default action (no core dump from the wrapper), so that
// the parent sees a signal death; falls back to exit(128 + signal). On Windows, which has no
// signal deaths, it exits the way a process ends by that console event (STATUS_CONTROL_C_EXIT).
[[noreturn]] void die_by_signal(int signal);

} // namespace buildlock::os
