// What the kernel says about the lock directory while something hangs: which process holds or
// waits for which lock on which file (/proc/locks), and where each process that has a file of the
// directory open is blocked (/proc/PID/wchan, /proc/PID/syscall). A hang report with only
// buildlock's own view cannot tell a lost wake-up from a lock held by a process nobody expects.
#pragma once

#include <string>

namespace buildlock::chaos {

std::string describe_kernel_view(const std::string& lock_dir);

} // namespace buildlock::chaos
