// Kernel locks on Windows: a LockFileEx byte-range lock on one byte far past the end of the file.
//
// Windows byte-range locks are mandatory for the bytes they cover: a lock on the content would
// keep others from reading the metadata. One byte at 2^62, where no lock file ever reaches, blocks
// nothing anyone reads or writes. The offset is part of the protocol (docs/protocol.md, "Windows"):
// every buildlock on Windows must lock the same byte.
//
// Such a lock belongs to the handle in this process: another handle conflicts with it (in this
// process too), and no child process ever shares it.
#include "os/file_lock.h"

#include "os/system_error.h"
#include "os/windows/interruption.h"
#include "os/windows/native.h"

namespace buildlock::os {
namespace {

constexpr DWORD lock_offset_high = 0x4000'0000; // byte 2^62: offset high dword, low dword 0

OVERLAPPED lock_position() {
  OVERLAPPED position{};
  position.Offset = 0;
  position.OffsetHigh = lock_offset_high;
  return position;
}

Result<LockAttempt> classify_failure(DWORD err) {
  switch (err) {
  case ERROR_LOCK_VIOLATION: // held by another handle: "busy", never a reason to break it
  case ERROR_IO_PENDING:
    return LockAttempt::busy;
  case ERROR_NOT_SUPPORTED:
  case ERROR_INVALID_FUNCTION:
    return LockAttempt::unsupported;
  default:
    return system_error("LockFileEx", static_cast<int>(err), ErrorKind::lock_directory);
  }
}

} // namespace

Result<LockAttempt> try_lock(const Fd& fd, LockType type) {
  return try_lock(fd.get(), type);
}

Result<LockAttempt> try_lock(NativeHandle fd, LockType type) {
  OVERLAPPED position = lock_position();
  DWORD flags = LOCKFILE_FAIL_IMMEDIATELY;
  if (type == LockType::exclusive) {
    flags |= LOCKFILE_EXCLUSIVE_LOCK;
  }
  if (::LockFileEx(to_handle(fd), flags, 0, 1, 0, &position)) {
    return LockAttempt::acquired;
  }
  return classify_failure(::GetLastError());
}

Result<LockAttempt> lock_or_interrupt(const Fd& fd, LockType type) {
  LockPolling polling;
  for (;;) {
    auto attempt = try_lock(fd, type);
    if (!attempt || *attempt != LockAttempt::busy) {
      return attempt;
    }
    if (!wait_uninterrupted(polling.next())) {
      return LockAttempt::interrupted;
    }
  }
}

void unlock(const Fd& fd) {
  // Locks on one range stack on Windows (a second shared lock through the same handle needs a
  // second unlock), where flock has one lock per open file: undo them all, so that "unlock"
  // means what it means on POSIX. Explicitly, before the handle is closed: the system releases
  // the locks of a closed handle or a dead process only "when it gets to it" (LockFileEx docs).
  for (;;) {
    OVERLAPPED position = lock_position();
    if (!::UnlockFileEx(to_handle(fd.get()), 0, 1, 0, &position)) {
      return; // ERROR_NOT_LOCKED: nothing (left) to undo
    }
  }
}

} // namespace buildlock::os
