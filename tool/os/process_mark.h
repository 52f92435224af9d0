// The mark of a command run under a lock: how a waiter, `status` or an etcd lease keeper tells
// that a process belongs to the command of a holder whose buildlock has died, a command that
// keeps the lock for as long as any of its processes runs (docs/protocol.md, "A killed wrapper's
// command").
//
// Two marks, each of which suffices, both inherited by every process the command starts:
//  - a variable in the environment the process was started with (BUILDLOCK_HELD naming the lock
//    file, BUILDLOCK_ETCD_LEASES naming the lease); it survives a command that closes the
//    descriptors it inherited (Python's subprocess does by default);
//  - a descriptor named after the lock (create_mark_descriptor(): a memory file that holds
//    nothing), which buildlock opens for its command and keeps open until it ends; it survives a
//    command that clears its environment (`env -i`).
// The descriptor also closes the gap the environment leaves. From the moment buildlock creates
// its command's first process until that process's exec has set its new environment up, /proc
// shows buildlock's own environment there, without the variable; a buildlock killed in that
// moment would leave a command that looks gone and loses its lock to the next run while it
// starts. The descriptor is there all along: the new process gets a copy of buildlock's
// descriptor table at its creation, keeps it through the exec and passes it on.
// (The lock file's own descriptor, which the command inherits too, cannot serve: /proc names it
// by the name it was created under, a temporary one, and only a stat() of every open file of
// every process would tell which file it is, which a hung network mount can block for ever.)
#pragma once

#include "os/fd.h"
#include "os/result.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::os {

struct ProcessMark {
  std::string_view variable; // set in the environment of a marked process...
  std::function<bool(std::string_view)> value_matches; // ...to a value this accepts,
  // or: it holds the descriptor create_mark_descriptor(descriptor_name) made, inherited (not
  // close-on-exec). Empty: only the variable marks.
  std::string descriptor_name;
};

// A new descriptor named `name` that holds nothing and marks the processes that inherit it: not
// close-on-exec (Linux: a memory file, memfd_create). Errors: ErrorKind::system. An invalid Fd
// where nothing looks for it: Windows, where no process a holder started outlives it (its Job
// object ends them all), and other OSes without /proc.
Result<Fd> create_mark_descriptor(const std::string& name);

enum class ProcessSearch {
  found,      // a live process is marked
  none,       // no process that could be read is, and every process of `owner_uid` was read
  unreadable, // none found, but a process of `owner_uid` could not be read: it might be
};

// Looks for a live process, other than this one, that carries `mark`. Processes of other users
// than `owner_uid` that cannot be read are passed over (the one searched for runs as
// `owner_uid`, or was started by a process that did). Linux only (/proc: the environment a
// process started with, its open descriptors); elsewhere `unreadable`, except on Windows: `none`,
// because there a holder's Job object ends every process its command started when it dies.
ProcessSearch find_marked_process(const ProcessMark& mark, std::int64_t owner_uid);

// Every live process of user `owner_uid`, other than this one, that carries `mark`. Linux only;
// elsewhere none. Reads every process's environment, and the descriptors of those whose
// environment does not have the mark: slow on a busy machine.
std::vector<std::int64_t> marked_processes(const ProcessMark& mark, std::int64_t owner_uid);

// Sends SIGKILL to `pid` if it still carries `mark` (it is not another process that got its pid
// meanwhile); true when it was sent. Linux only; elsewhere false.
bool kill_if_marked(std::int64_t pid, const ProcessMark& mark);

} // namespace buildlock::os
