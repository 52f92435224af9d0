// Turning the OS's error numbers (errno; on Windows GetLastError()) into an Error with a readable
// message.
#pragma once

#include "os/result.h"

#include <string>

namespace buildlock::os {

// "<what>: <strerror(err)>" (Windows: the system's text for that Win32 error code), classified as
// ErrorKind::system unless `kind` says otherwise.
Error system_error(const std::string& what, int err, ErrorKind kind = ErrorKind::system);

// The same for the current errno (GetLastError()).
Error last_system_error(const std::string& what, ErrorKind kind = ErrorKind::system);

} // namespace buildlock::os
