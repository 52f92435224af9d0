// Writing a whole file that the user names (`report --svg FILE`): created or replaced.
#pragma once

#include "os/result.h"

#include <string>

namespace buildlock::os {

// Creates `path` (mode 0666 less the umask) or truncates it, and writes `data` to it.
// POSIX: open(O_CREAT | O_TRUNC); Windows: CREATE_ALWAYS. Errors name the path.
Status write_whole_file(const std::string& path, const std::string& data);

} // namespace buildlock::os
