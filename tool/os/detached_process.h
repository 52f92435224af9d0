// A process that outlives buildlock: a helper started from this very executable that is nobody's
// child (so that it survives buildlock's death and never counts among the command's processes).
//
// Used for an etcd hold (etcd/keeper.h): when buildlock is killed while its command runs on, the
// helper keeps the lease alive for as long as the command's processes run (found by their mark,
// os/process_mark.h), and ends them if it cannot (a lease that runs out would let another run in
// beside them).
#pragma once

#include "os/fd.h"
#include "os/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::os {

// Starts this executable with `arguments` (argv[1...]) as a process that is not a child of this
// one (forked twice; call it before adopt_orphaned_descendants(), or it comes back to us) and
// leads a session of its own (a signal to our process group or session does not reach it). Its
// stdin is the read end of a pipe whose write end is returned (close-on-exec, non-blocking):
// end-of-file there tells it that this process is gone, whatever way it ended. Its stdout and
// stderr are /dev/null. Errors: ErrorKind::system; where the OS cannot (not Linux), one saying so.
Result<Fd> start_detached_self(const std::vector<std::string>& arguments);

// For the helper: what arrived on its stdin (blocking until something does), nullopt at its end.
std::optional<std::string> read_input();

// Writes `text` to `fd` without ever blocking or dying of SIGPIPE; false when not all of it went.
bool write_without_blocking(const Fd& fd, std::string_view text);

} // namespace buildlock::os
