// Running the user's command(s) while a lock is held: passing signals on, keeping the lock's
// heartbeat, and reporting how the command ended.
#pragma once

#include "core/duration.h"
#include "os/child_process.h"
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
  // Called every `heartbeat_interval` while a command runs; returns false once the lock is lost.
  std::function<bool()> heartbeat;
  Seconds heartbeat_interval{30};
  // --stop-if-lost: stop the command (SIGTERM, SIGKILL 5 s later) once the lock is lost.
  bool stop_if_lost = false;
  // --die-with-parent: stop the command when the build that started buildlock is gone (see
  // ParentWatch in supervise.cpp).
  bool die_with_parent = false;
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
};

// Expects `signals` in TerminationMode::record. Signals sent by a process (kill) are passed on to
// the running command; signals the kernel generated for the whole foreground process group
// (Ctrl+C at a terminal) reached the command already and are not sent twice.
// Errors: command_not_found / command_not_executable.
Result<SuperviseOutcome> supervise(const SuperviseRequest& request, os::SignalHandling& signals);

} // namespace buildlock::core
