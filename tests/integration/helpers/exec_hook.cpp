// exec_hook: a library that tests preload into buildlock (LD_PRELOAD) to stop the process that is
// about to become the command at its execve(): after buildlock created it, before the exec. It
// still runs buildlock's code then, with buildlock's memory and environment, and a test can kill
// buildlock at exactly that point (docs/protocol.md, "A killed wrapper's command").
//
//   EXEC_HOOK_PAUSE=SUFFIX   before an execve() of a path that ends with SUFFIX: writes one byte
//   EXEC_HOOK_NOTIFY_FD=N    to descriptor N, waits for one byte (or end of file) on descriptor
//   EXEC_HOOK_RESUME_FD=M    M, and then makes the call, without these variables and LD_PRELOAD
//                            in the new program's environment (it is not stopped again).
//
// buildlock's child shares its memory until the exec (clone with CLONE_VM): this code calls only
// system calls and reads the environment, and keeps what it builds in static storage, never on
// the heap (another thread of buildlock may hold the allocator's lock).
// A test-only hook outside the tool: buildlock itself has no test switches.
#include "preload_pause.h"

#include <cerrno>
#include <cstdlib>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

namespace hook = buildlock::hook;

// `envp` without the hook's own variables; at most 4095 entries (a test's environment).
char* const* without_hook(char* const* envp) {
  static char* kept[4096];
  std::size_t count = 0;
  for (char* const* entry = envp; *entry != nullptr && count + 1 < sizeof kept / sizeof *kept;
       ++entry) {
    if (!hook::starts_with(*entry, "EXEC_HOOK_") && !hook::starts_with(*entry, "LD_PRELOAD=")) {
      kept[count++] = *entry;
    }
  }
  kept[count] = nullptr;
  return kept;
}

// true when the call was stopped (and then let go).
bool pause_if_asked(const char* path) {
  const char* suffix = std::getenv("EXEC_HOOK_PAUSE");
  return suffix != nullptr && *suffix != '\0' && hook::ends_with(path, suffix) &&
         hook::stop_here("EXEC_HOOK_NOTIFY_FD", "EXEC_HOOK_RESUME_FD") !=
             hook::Resumed::not_stopped;
}

} // namespace

extern "C" int execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  const int saved = errno;
  const bool paused = pause_if_asked(path);
  errno = saved;
  return static_cast<int>(::syscall(SYS_execve, path, argv, paused ? without_hook(envp) : envp));
}
