#include "os/file_lock.h"

#include "os/system_error.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

namespace buildlock::os {
namespace {

// EBADF from an exclusive flock on a valid descriptor that is not open for writing is NFS's
// byte-range emulation speaking (flock(2): "the file must be opened for writing"); any other
// EBADF is a real bad descriptor.
bool refused_for_read_only(int fd, LockType type, int err) {
  if (err != EBADF || type != LockType::exclusive) {
    return false;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  return flags != -1 && (flags & O_ACCMODE) == O_RDONLY;
}

Result<LockAttempt> classify_failure(int fd, LockType type, int err) {
  if (refused_for_read_only(fd, type, err)) {
    return LockAttempt::needs_write_access;
  }
  switch (err) {
  case EWOULDBLOCK:
    return LockAttempt::busy;
  case EINTR:
    return LockAttempt::interrupted;
  case ENOLCK:
  case EOPNOTSUPP:
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
  case ENOTSUP:
#endif
  case ENOSYS:
    return LockAttempt::unsupported;
  default:
    return system_error("flock", err, ErrorKind::lock_directory);
  }
}

int operation(LockType type) {
  return type == LockType::shared ? LOCK_SH : LOCK_EX;
}

} // namespace

Result<LockAttempt> try_lock(const Fd& fd, LockType type) {
  return try_lock(fd.get(), type);
}

Result<LockAttempt> try_lock(NativeHandle fd, LockType type) {
  for (;;) {
    if (::flock(fd, operation(type) | LOCK_NB) == 0) {
      return LockAttempt::acquired;
    }
    if (errno != EINTR) {
      return classify_failure(fd, type, errno);
    }
  }
}

Result<LockAttempt> lock_or_interrupt(const Fd& fd, LockType type) {
  if (::flock(fd.get(), operation(type)) == 0) {
    return LockAttempt::acquired;
  }
  return classify_failure(fd.get(), type, errno);
}

void unlock(const Fd& fd) {
  ::flock(fd.get(), LOCK_UN);
}

} // namespace buildlock::os
