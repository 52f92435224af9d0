// Which processes have a file open: the ones that keep a kernel lock alive after the process that
// took it died (a killed wrapper's command inherits the lock file's descriptor, and with it the
// lock). For people only: `status` names them so that a user knows what to stop; no decision of
// the protocol depends on it.
#pragma once

#include "os/filesystem.h"

#include <cstdint>
#include <string>
#include <vector>

namespace buildlock::os {

struct ProcessWithFile {
  std::int64_t pid = 0;
  std::string command; // its command line, words joined by spaces, for people
};

// Every process but this one that has `file` open and that this user may look into, by pid;
// not those asleep waiting for its kernel lock, which hold nothing. Linux: a pass over
// /proc/PID/fd (processes of other users are invisible without privileges, and are missing from
// the list, not an error). Where the OS offers no such view (macOS without /proc; Windows, where
// a job object ends the command with its buildlock, so no command outlives its holder), empty.
std::vector<ProcessWithFile> processes_with_file_open(const FileIdentity& file);

} // namespace buildlock::os
