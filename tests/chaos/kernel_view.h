// What the kernel says while something hangs: which process holds or waits for which lock on
// which file of the lock directory (/proc/locks), where each process that has a file of the
// directory open is blocked (/proc/PID/wchan, /proc/PID/syscall), and what each process of a hung
// run is doing. A hang report with only buildlock's own view cannot tell a lost wake-up from a lock
// held by a process nobody expects, or a wrapper waiting for a child that nobody resumed.
#pragma once

#include <string>
#include <sys/types.h>

namespace buildlock::chaos {

std::string describe_kernel_view(const std::string& lock_dir);

// What a hung run's processes were doing when the worker gave up on it, so that a hang found
// once, in a repetition whose directory the next one overwrites, can be told from its report
// alone (a process stopped and never resumed, a wrapper waiting for a descendant). One line per
// process, the wrapper and then its live descendants: pid, parent, process group, session, state,
// the kernel function it sleeps in (/proc/PID/wchan), pending and blocked signals, command line.
std::string describe_process_tree(pid_t wrapper);

} // namespace buildlock::chaos
