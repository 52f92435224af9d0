// The processes a command started, wherever they went: the descendants of this process.
//
// A command run under a lock is a tree (a shell, make, compilers, a grandchild that called
// setsid()). Killing only its first process leaves the rest running, and releasing the lock then
// lets a second build in beside them. So buildlock makes itself the reaper of its orphans: a
// descendant whose parent dies is re-parented to buildlock instead of to init, which keeps every
// descendant findable (it is on buildlock's chain of children) and makes "no child left" mean
// "no descendant left".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::os {

// Makes this process the reaper of its orphaned descendants (Linux PR_SET_CHILD_SUBREAPER).
// Returns false where the OS has no such thing (macOS): descendants that leave the command's
// process group and lose their parent are then out of reach.
bool adopt_orphaned_descendants();

struct Descendant {
  std::int64_t pid = 0;
  std::int64_t process_group = 0;
  std::string name; // the kernel's short name, for messages
  // When it started, as the scan saw it (Linux: clock ticks since boot): with the pid, which is
  // reused once the process is reaped, this says which process the scan found.
  std::optional<std::uint64_t> start_time;
};

// Every live (not yet exited) descendant of this process, parents before children. On Linux from
// /proc; elsewhere the members of `fallback_process_group` (when > 0), the best the OS offers.
// Live includes a process whose main thread has ended while other threads of it run
// (pthread_exit in main): /proc shows it as a zombie, but its threads run on, a signal to its pid
// reaches them, and it cannot be reaped before they end.
std::vector<Descendant> live_descendants(std::int64_t fallback_process_group);

enum class SignalDelivery {
  sent,
  gone, // the process has exited, or its pid now names another process: nothing was sent
};

// Sends `signal` to the process the scan found as `process`, and then SIGCONT, so that a stopped
// process acts on it at once (a stopped process keeps SIGTERM pending until it is continued).
// Never reaches another process that got its pid after it was reaped (Linux >= 5.3: through a
// pidfd opened before its identity is checked; see signals_through_pidfds() and
// docs/protocol.md). Windows: kill_signal() is TerminateProcess; a console control event
// reaches the process only if it leads a process group of its own.
SignalDelivery signal_and_continue(const Descendant& process, int signal);

// Whether signal_and_continue() goes through pidfds here (Linux >= 5.3, where no seccomp filter
// refuses pidfd_open). Without them it checks the process's identity and then calls kill(): a
// pid reaped and reused in the moment between the two can still get the signal.
bool signals_through_pidfds();

// The outermost of this process and the unbroken chain of its ancestors (up to, not including,
// init) whose environments (as they started) have `name` set, non-empty: the build a
// BUILDLOCK_TRACE covers, whose runs are grouped by it in the trace. This process's own pid when
// its parent lacks it, and where the OS does not show other processes' environments (everywhere
// but Linux).
std::int64_t outermost_ancestor_with(std::string_view name);

// This process's process group (0 where the OS does not tell: Windows).
std::int64_t own_process_group();

// Whether a command should start in a process group of its own, which then gets the signals
// passed on to it. POSIX: when this process leads its own group and is not in its terminal's
// foreground group. Leading: whoever started it made the group for it (ninja does for each step,
// so do `setsid` and a job-control shell), so a group kill is aimed at this step alone, and a
// command sharing the group would get it twice, from the sender and from us. In the foreground:
// the terminal delivers Ctrl+C to every process of the group itself, and the command must share
// the group to read the terminal. Windows: never, because a console control event reaches a whole
// group or console, never one process: a command sharing our group gets each event we get, once
// (see os/windows/process_tree.cpp).
bool command_in_own_group();

// Lets a stopped process run again (SIGCONT), so that it acts on a signal its process group got;
// like signal_and_continue(), never another process that reuses its pid. Nothing where processes
// cannot be stopped from outside (Windows).
void continue_process(const Descendant& process);

} // namespace buildlock::os
