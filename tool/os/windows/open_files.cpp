#include "os/open_files.h"

namespace buildlock::os {

// Windows offers no supported view of another process's handles, and needs none here: the
// command runs in a job object that ends with its buildlock (os/windows/command_job.h), so no
// process keeps a lock after its holder died.
std::vector<ProcessWithFile> processes_with_file_open(const FileIdentity&) {
  return {};
}

} // namespace buildlock::os
