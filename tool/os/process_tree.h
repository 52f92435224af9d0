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
#include <functional>
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
};

// Every live (not yet exited) descendant of this process, parents before children. On Linux from
// /proc; elsewhere the members of `fallback_process_group` (when > 0), the best the OS offers.
std::vector<Descendant> live_descendants(std::int64_t fallback_process_group);

// Sends `signal` to `pid` and then SIGCONT, so that a stopped process acts on it at once
// (a stopped process keeps SIGTERM pending until it is continued). Ignores processes that are
// gone already. Windows: kill_signal() is TerminateProcess; a console control event reaches
// `pid` only if it leads a process group of its own.
void signal_and_continue(std::int64_t pid, int signal);

enum class ProcessSearch {
  found,      // a live process matches
  none,       // no process that could be read matches, and every process of `owner_uid` was read
  unreadable, // none found, but a process of `owner_uid` could not be read: it might match
};

// Looks for a live process, other than this one, whose environment has `name` set to a value for
// which `matches` is true. Processes of other users than `owner_uid` that cannot be read are
// passed over (the one searched for runs as `owner_uid`, or was started by a process that did).
// Linux only (/proc/PID/environ holds the environment a process started with); elsewhere
// `unreadable`, except on Windows: `none`, because there a holder's Job object ends every process
// its command started when the holder dies.
ProcessSearch find_process_by_environment(std::string_view name,
                                          const std::function<bool(std::string_view)>& matches,
                                          std::int64_t owner_uid);

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

// Lets a stopped process run again (SIGCONT), so that it acts on a signal its process group got.
// Nothing where processes cannot be stopped from outside (Windows).
void continue_process(std::int64_t pid);

} // namespace buildlock::os
