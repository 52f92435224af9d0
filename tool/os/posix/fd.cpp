#include "os/fd.h"

#include <unistd.h>

namespace buildlock::os {

void Fd::reset(NativeHandle fd) {
  if (fd_ >= 0) {
    // close() may fail with EINTR; on Linux and macOS the descriptor is released anyway, and
    // retrying could close a descriptor another thread just got, so never retry.
    ::close(fd_);
  }
  fd_ = fd;
}

} // namespace buildlock::os
