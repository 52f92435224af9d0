// The Job object of the command that runs now, shared by the files that start it
// (child_process.cpp), look for what it left running (process_tree.cpp) and wait for it to end
// (signals.cpp). Windows only; nothing outside os/windows/ includes this.
//
// A Job object is the Windows form of the descendant rule: every process the command starts is
// in it, whatever its parents do, so "the job has no process left" means "no descendant left".
#pragma once

#include "os/windows/native.h"

#include <cstdint>
#include <vector>

namespace buildlock::os {

// Set by ChildProcess for its lifetime; nullptr when no command runs. Not owned here. The
// process is set back to nullptr once ChildProcess::poll() has seen it exit: until then its exit
// wakes every wait_for_signal(), as a SIGCHLD waits in the self-pipe on POSIX until it is taken.
void set_running_command(HANDLE job, HANDLE process);
HANDLE running_job();
HANDLE running_process();

// The ids of the processes in `job` that have not exited.
std::vector<std::uint32_t> job_processes(HANDLE job);

} // namespace buildlock::os
