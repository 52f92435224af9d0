// Another process's environment, read from /proc, and the lookup of one variable in it: what the
// posix/ files that find a process by a variable in its environment share (process_mark.cpp for
// a killed wrapper's command, process_tree.cpp for the build a trace covers). POSIX only; Linux
// has /proc.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace buildlock::os {

// Reads the environment block of process `pid` (/proc/PID/environ) into `block`: NAME=VALUE
// entries, each ending in NUL. 0, or the errno of the open() or read() that failed: ENOENT (gone
// meanwhile), EACCES or EPERM (another user's, unless we are root), ESRCH (no environment any
// more: a kernel thread, an exiting process, or one whose main thread has ended). `block` is
// cleared first; after a failed read it keeps what was read before. Reading stops once 1 MiB is
// in: an environment is rarely more than a few KiB, and a hostile one must not cost more.
int read_process_environment(std::int64_t pid, std::string& block);

// The same for thread `thread` (a name in /proc/PID/task) of process `pid`, whose environment
// survives when the leader's has gone (/proc/PID/task/TID/environ).
int read_thread_environment(std::int64_t pid, std::string_view thread, std::string& block);

// Whether the environment block `block` has `name` set (exactly that name, not one it begins) to
// a value `matches` accepts: all that follows `name` and its '=', any '=' in it included. Each
// entry of that name is offered, in order.
bool environment_has(std::string_view block, std::string_view name,
                     const std::function<bool(std::string_view)>& matches);

} // namespace buildlock::os
