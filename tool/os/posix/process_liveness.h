// Whether a process that /proc lists has ended: what the posix/ files that scan /proc for live
// processes share (process_tree.cpp for a command's descendants, process_mark.cpp for the
// processes of a killed wrapper's command). Linux only.
#pragma once

#include "os/process_identity.h"

#include <cstdint>

namespace buildlock::os {

// Whether process `pid`, whose /proc/PID/stat says `status`, has ended: 'X' (being removed), or
// 'Z' (a zombie) unless other threads of it still run. A process whose main thread called
// pthread_exit() while others run is shown as a zombie (its thread-group leader is one), yet it
// runs on: a signal to its pid reaches those threads, and waitpid() cannot reap it before the
// last of them ends.
bool has_ended(std::int64_t pid, const ProcessStatus& status);

} // namespace buildlock::os
