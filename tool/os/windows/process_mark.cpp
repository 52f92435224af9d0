#include "os/process_mark.h"

namespace buildlock::os {

// No process started under a holder outlives it on Windows: the holder's Job object ends them
// all when the holder dies (os/windows/child_process.cpp). So without looking, none runs, a dead
// holder's lock is free at once, and nothing needs a mark. (Only what a command left running
// after it exited normally survives, and that is not the locked work, and its holder released
// the lock.)

Result<Fd> create_mark_descriptor(const std::string&) {
  return Fd();
}

ProcessSearch find_marked_process(const ProcessMark&, std::int64_t) {
  return ProcessSearch::none;
}

std::vector<std::int64_t> marked_processes(const ProcessMark&, std::int64_t) {
  return {};
}

bool kill_if_marked(std::int64_t, const ProcessMark&) {
  return false;
}

} // namespace buildlock::os
