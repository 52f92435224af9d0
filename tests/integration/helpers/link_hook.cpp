// link_hook: a library that tests preload into buildlock (LD_PRELOAD) to see and to order its
// link() calls, the calls that create a lock's name and claim a file (docs/protocol.md, "Create"
// and "Reclaim"). Nothing else changes: every call is made, unchanged, by the real system call.
//
//   LINK_HOOK_LOG=PATH       appends one line per link() call to PATH: "FROM -> TO", so that a
//                            test can count attempts instead of timing them.
//   LINK_HOOK_PAUSE=SUFFIX   before every link() whose source or target ends with SUFFIX: writes
//   LINK_HOOK_NOTIFY_FD=N    one byte to descriptor N and waits for one byte on descriptor M, so
//   LINK_HOOK_RESUME_FD=M    that a test can act at exactly that point of the protocol (another
//                            run joins, another run creates the name) and then let it go on. End
//                            of file on M lets every later call through without waiting.
//
// A test-only hook outside the tool: buildlock itself has no test switches.
#include "preload_pause.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

namespace hook = buildlock::hook;

void log_call(const char* from, const char* to) {
  const char* log = std::getenv("LINK_HOOK_LOG");
  if (log == nullptr || *log == '\0') {
    return;
  }
  const int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return;
  }
  const std::string line = std::string(from) + " -> " + to + "\n";
  // One write of a short line with O_APPEND: lines of several processes never interleave.
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

bool resumed_for_good = false;

void pause_if_asked(const char* from, const char* to) {
  const char* suffix = std::getenv("LINK_HOOK_PAUSE");
  if (resumed_for_good || suffix == nullptr || *suffix == '\0' ||
      !(hook::ends_with(from, suffix) || hook::ends_with(to, suffix))) {
    return;
  }
  resumed_for_good =
      hook::stop_here("LINK_HOOK_NOTIFY_FD", "LINK_HOOK_RESUME_FD") == hook::Resumed::for_good;
}

} // namespace

extern "C" int link(const char* from, const char* to) noexcept {
  const int saved = errno;
  log_call(from, to);
  pause_if_asked(from, to);
  errno = saved;
  return static_cast<int>(::syscall(SYS_linkat, AT_FDCWD, from, AT_FDCWD, to, 0));
}
