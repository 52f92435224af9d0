#include "os/fd.h"

#include "os/file_lock.h"
#include "os/windows/native.h"

namespace buildlock::os {

void Fd::reset(NativeHandle fd) {
  if (fd_ >= 0) {
    // The system releases the byte-range locks of a closed handle only "when it gets to it"
    // (LockFileEx docs; seconds on a loaded machine), and until then everyone else sees the lock
    // held. Unlocking first makes the release immediate; it fails harmlessly where nothing is
    // locked (or the handle is no file).
    unlock(*this);
    ::CloseHandle(to_handle(fd_));
  }
  fd_ = fd;
}

} // namespace buildlock::os
