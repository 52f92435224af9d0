#include "os/system_error.h"

#include <cerrno>
#include <cstring>

namespace buildlock::os {

Error system_error(const std::string& what, int err, ErrorKind kind) {
  return Error{kind, what + ": " + std::strerror(err)};
}

Error last_system_error(const std::string& what, ErrorKind kind) {
  return system_error(what, errno, kind);
}

} // namespace buildlock::os
