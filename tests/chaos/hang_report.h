// What a hung run's processes were doing when the worker gave up on it: so that a hang found
// once, in a repetition whose directory the next one overwrites, can be told from its report
// alone (a process stopped and never resumed, a wrapper asleep in the kernel or waiting for a
// descendant, a descendant nobody signalled).
#pragma once

#include <string>
#include <sys/types.h>

namespace buildlock::chaos {

// One line per process: the wrapper, then its live descendants, with pid, parent, process group,
// session, state (/proc/PID/stat), the kernel function it sleeps in (/proc/PID/wchan), its
// pending and blocked signals and its command line.
std::string describe_process_tree(pid_t wrapper);

} // namespace buildlock::chaos
