// ChildProcess: a command started by buildlock, owned until it has been waited for.
#pragma once

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

class ChildProcess {
public:
  // Starts argv[0] (searched in PATH) with this process's environment plus `environment`
  // overrides ("NAME", "value"), in this process group, with no signals blocked. Descriptors
  // without FD_CLOEXEC are inherited: that is how the command shares the lock. Errors:
  // command_not_found (127) or command_not_executable (126).
  static Result<ChildProcess>
  spawn(const std::vector<std::string>& argv,
        const std::vector<std::pair<std::string, std::string>>& environment);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Waits for a child still running: buildlock never leaves its command behind unwatched.
  ~ChildProcess();

  long pid() const { return pid_; }
  // The exit status once the child has ended; nullopt while it runs.
  std::optional<ExitStatus> poll();
  void send_signal(int signal) const;

private:
  explicit ChildProcess(long pid) : pid_(pid) {}
  long pid_ = -1;
  std::optional<ExitStatus> status_;
};

// Clears FD_CLOEXEC so that commands started later inherit `fd`.
Status make_inheritable(int fd);

} // namespace buildlock::os
