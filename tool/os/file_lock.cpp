#include "os/file_lock.h"

#include "os/system_error.h"

#include <cerrno>
#include <sys/file.h>

namespace buildlock::os {
namespace {

Result<LockAttempt> classify_failure(int err) {
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

Result<LockAttempt> try_lock(int fd, LockType type) {
  for (;;) {
    if (::flock(fd, operation(type) | LOCK_NB) == 0) {
      return LockAttempt::acquired;
    }
    if (errno != EINTR) {
      return classify_failure(errno);
    }
  }
}

Result<LockAttempt> lock_or_interrupt(const Fd& fd, LockType type) {
  if (::flock(fd.get(), operation(type)) == 0) {
    return LockAttempt::acquired;
  }
  return classify_failure(errno);
}

void unlock(const Fd& fd) {
  ::flock(fd.get(), LOCK_UN);
}

} // namespace buildlock::os
