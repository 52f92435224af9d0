// Running the user's command(s) while a lock is held: passing signals on, keeping the lock's
// heartbeat, and reporting how the command ended.
#pragma once

#include "core/duration.h"
#include "os/child_process.h"
#include "os/process_tree.h"
#include "os/signals.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace buildlock::core {

struct SuperviseRequest {
  // Run one after another, stopping at the first that fails or dies.
  std::vector<std::vector<std::string>> commands;
  std::vector<std::pair<std::string, std::string>> environment;
  // Called after each command has started (work that must not delay its start).
  std::function<void()> started;
  // Called every `heartbeat_interval` while a command runs; returns false once the lock is lost.
  std::function<bool()> heartbeat;
  Seconds heartbeat_interval{30};
  // Stop the command (SIGTERM, SIGKILL `kill_after_if_lost` later, if that is shorter than
  // `kill_after`) once the lock is lost; the default (--keep-running-if-lost turns it off).
  bool stop_if_lost = true;
  Seconds kill_after_if_lost{31536000}; // no shorter limit unless the store needs one (etcd)
  // --die-with-parent: stop the command when the build that started buildlock is gone (see
  // ParentWatch in supervise.cpp).
  bool die_with_parent = false;
  // --kill-after: how long a command being stopped, and every process it started, get between
  // the stopping signal and SIGKILL.
  Seconds kill_after{5};
  // --verbose: name the processes a command that exited normally left running.
  bool list_leftovers = false;
};

struct SuperviseOutcome {
  // How the last command that ran ended; when a signal stopped the sequence before its end, that
  // signal (as if the skipped commands had died of it), so that callers never report success.
  os::ExitStatus status;
  // A forwarded signal arrived while a command ran (the user wants to stop).
  int interrupting_signal = 0;
  // The command was stopped because buildlock's parent went away.
  bool parent_gone = false;
  // The heartbeat found the lock taken away while a command ran.
  bool lock_lost = false;
  // With list_leftovers: what the last command left running when it exited normally.
  std::vector<os::Descendant> leftovers;
  // Processes that were still running when the command ended by a signal or was stopped, and
  // that were therefore stopped too before supervise() returned; and how many of them needed
  // SIGKILL.
  std::size_t descendants_stopped = 0;
  std::size_t descendants_killed = 0;
};

// Expects `signals` in TerminationMode::record, and this process adopting orphaned descendants
// (os::adopt_orphaned_descendants).
//
// The command runs in a process group of its own when this process leads its own group (ninja
// made it for this step) and is not in its terminal's foreground group; otherwise it shares ours,
// so that a group kill of the whole build (SIGKILL included) reaches it and it can use the
// terminal. Signals sent by a process are passed on to the command's group (or to the command
// alone when it shares ours); signals the kernel generated for the foreground group (Ctrl+C)
// reached the command already and are not sent twice. A group kill aimed at a group buildlock
// leads thus reaches the command once.
//
// The release rule: when the command ends by a signal, or is stopped (a passed-on SIGINT, SIGTERM,
// SIGHUP or SIGQUIT, a gone parent, a lost lock with stop_if_lost), every process it started that
// is still running gets the same signal (SIGTERM for signals that are not about stopping), and
// SIGKILL `kill_after` later; supervise() returns only once none is left, so the caller releases
// the lock with nothing running under it. When the command exits normally, what it left running
// is a daemon and is left alone.
// Errors: command_not_found / command_not_executable.
Result<SuperviseOutcome> supervise(const SuperviseRequest& request, os::SignalHandling& signals);

} // namespace buildlock::core
