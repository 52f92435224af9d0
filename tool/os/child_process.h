// ChildProcess: a command started by buildlock, owned until it has been waited for.
#pragma once

#include "os/fd.h"
#include "os/result.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace buildlock::os {

struct ExitStatus {
  bool signaled = false;
  int code = 0; // exit code, or the signal number when `signaled`
};

// The signal a command died of, as the release rule sees it (core/supervise.h). POSIX: a death
// by a signal, or an exit status of 128 + N, which is how a shell (and make, and most wrappers)
// reports that the job it ran died of signal N: `sh -c 'cc ... & wait'` whose compiler was killed
// exits 137 normally, and what that compiler started must not be taken for a daemon the command
// left on purpose. Windows: STATUS_CONTROL_C_EXIT, the exit status of a process that a console
// control event ended.
std::optional<int> death_signal(const ExitStatus& status);

class ChildProcess {
public:
  // Starts argv[0] (searched in PATH) with this process's environment plus `environment`
  // overrides ("NAME", "value"), with no signals blocked, in a process group of its own when
  // `own_process_group` (else in this one). Descriptors without FD_CLOEXEC are inherited: that is
  // how the command shares the lock. Errors: command_not_found (127) or
  // command_not_executable (126).
  static Result<ChildProcess>
  spawn(const std::vector<std::string>& argv,
        const std::vector<std::pair<std::string, std::string>>& environment,
        bool own_process_group);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Waits for a child still running: buildlock never leaves its command behind unwatched.
  ~ChildProcess();

  long pid() const { return pid_; }
  // The process group the command started in: its own (its pid), or 0 when it shares ours.
  long process_group() const { return own_group_ ? pid_ : 0; }
  // The exit status once the child has ended; nullopt while it runs. Also reaps every other
  // child that has ended: orphans of the command adopted by this process
  // (adopt_orphaned_descendants), which would otherwise stay zombies.
  std::optional<ExitStatus> poll();
  // After poll(): whether this process still has any child, the command or an adopted orphan.
  // With orphans adopted, false means that no descendant of the command is left at all.
  // Windows: whether the command's Job object, which holds every process it started, has any.
  bool children_remain() const { return children_remain_; }
  // The signal to the command's process group when it has its own, else to the command alone.
  // Windows: a Ctrl+Break to the command's own group; otherwise (the kill, or a command that
  // shares our group) TerminateJobObject: every process it started, at once.
  void send_signal(int signal) const;

private:
  ChildProcess(long pid, bool own_group) : pid_(pid), own_group_(own_group) {}
  long pid_ = -1;
  bool own_group_ = false;
  bool children_remain_ = true;
  std::optional<ExitStatus> status_;
#if defined(_WIN32)
  // The process and its Job object (HANDLEs; <windows.h> stays out of headers).
  void* process_ = nullptr;
  void* job_ = nullptr;
#endif
};

// Clears FD_CLOEXEC so that commands started later inherit `fd`.
Status make_inheritable(NativeHandle fd);

} // namespace buildlock::os
