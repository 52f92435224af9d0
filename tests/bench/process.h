// Starting and reaping the processes under measurement (posix_spawn, waitpid), and pipes to
// hear from them.
// Failures throw BenchError; the benchmark reports them on one line and exits 1.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace buildlock::bench {

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SpawnOptions {
  std::optional<std::string> stdout_path; // default: inherited
  std::optional<std::string> stderr_path; // default: inherited; appended to
  // (from, to): descriptor `from` of the benchmark becomes `to` in the child.
  std::vector<std::pair<int, int>> descriptors;
};

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

struct Finished {
  int status = 0; // as from waitpid
};

// Blocks until `pid` ends (the watchdog bounds every wait).
Finished wait_for(pid_t pid);

// Waits for `pid` and throws unless it exited with status 0; `what` names it in the error.
Finished expect_success(pid_t pid, const std::string& what);

// Sends SIGKILL (ignoring "no such process").
void kill_hard(pid_t pid);

// A pipe whose ends are closed on exec (hand an end to a child with SpawnOptions::descriptors).
class Pipe {
public:
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_write_end();
  // Reads one "\n"-terminated line; throws on end of file or after `timeout_ms`.
  std::string read_line(int timeout_ms, const std::string& what);

private:
  int fds_[2] = {-1, -1};
  std::string buffered_;
};

// Ends the benchmark with "buildlock_bench: error: <what> took longer than N s" if a phase hangs.
void arm_watchdog(const std::string& what, unsigned seconds);
void disarm_watchdog();

} // namespace buildlock::bench
