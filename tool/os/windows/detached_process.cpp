#include "os/detached_process.h"

namespace buildlock::os {

// Not needed on Windows: a command runs in a job object that ends with its buildlock
// (docs/windows.md), so no command outlives its wrapper and nothing must keep its lease.
Result<Fd> start_detached_self(const std::vector<std::string>&) {
  return Error{ErrorKind::system, "not needed on Windows: the command's job ends with buildlock"};
}

std::optional<std::string> read_input() {
  return std::nullopt;
}

bool write_without_blocking(const Fd&, std::string_view) {
  return false;
}

} // namespace buildlock::os
