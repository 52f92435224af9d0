// Command and Process: start a real program the way a shell or ninja would, and watch it end.
//
// Every process gets stdin from /dev/null (or a pseudo-terminal), stdout and stderr in files in
// `output/` of the test's TempDir (kept when the test fails), every signal at its default action,
// no signal blocked and no core dumps (unless asked for). A Process that is still running when it
// goes out of scope is killed with SIGKILL (its whole process group when it has its own) and
// reaped: a failing test never leaves processes behind. Waiting always has a timeout: a hang fails
// the test instead of stalling the suite.
#pragma once

#include "support/pipe.h"

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace buildlock::test {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// How a process ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;           // exit code, or the signal number when `signaled`
  bool timed_out = false; // still running at the deadline, then killed by the test

  static ExitStatus exited(int code) { return {false, code, false}; }
  static ExitStatus killed_by(int signal) { return {true, signal, false}; }
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};
// "exit 42", "signal 2 (Interrupt)", "still running at the deadline (killed)": readable failures.
std::string describe(const ExitStatus& status);
void PrintTo(const ExitStatus& status, std::ostream* out);

class Process;

class Command {
public:
  explicit Command(std::vector<std::string> argv);

  // Environment: this process's, with these changes (the last change of a variable wins).
  Command& env(std::string name, std::string value);
  Command& unset_env(std::string name);
  // Preloads `library` (LD_PRELOAD) into the program. A sanitized buildlock (the asan preset)
  // insists on its runtime coming first among the preloaded libraries: it is told that this one
  // may come first.
  Command& preload(const std::string& library);
  // Preloads `library`, a hook of helpers/preload_pause.h whose variables begin with `prefix`
  // (LINK_HOOK, EXEC_HOOK), and has it stop at the calls `where` names (its PREFIX_PAUSE): there
  // it writes a byte to `stopped` and waits for one on `resume` (passed down as fds 5 and 6).
  Command& stop_in_hook(const std::string& library, const std::string& prefix,
                        const std::string& where, const Pipe& stopped, const Pipe& resume);
  // The child gets `parent_fd` as its descriptor `child_fd` (not close-on-exec).
  Command& pass_fd(int child_fd, int parent_fd);
  // Run in a new process group (its pid), so that it and its descendants can be signalled
  // together like a foreground job.
  Command& own_process_group();
  // Run as the leader of a new session whose controlling terminal is `terminal_path` (a
  // pseudo-terminal slave), with it as stdin: Ctrl+C there signals the whole job.
  Command& controlling_terminal(std::string terminal_path);
  // stdout goes to `prefix`.out and stderr to `prefix`.err (default: a fresh name in the
  // directory `output` of the current TempDir).
  Command& output_to(std::string prefix);
  Command& working_directory(std::string path);
  // RLIMIT_CORE as high as the hard limit allows, instead of 0: a death by SIGSEGV, SIGABRT or
  // SIGQUIT then dumps core (where /proc/sys/kernel/core_pattern says), and Process::dumped_core()
  // tells whether it did.
  Command& allow_core_dumps();

  const std::vector<std::string>& argv() const { return argv_; }
  Process start() const;

private:
  friend class Process;
  std::vector<std::string> argv_;
  std::vector<std::pair<std::string, std::optional<std::string>>> environment_;
  std::vector<std::pair<int, int>> fds_;
  bool own_process_group_ = false;
  std::string terminal_path_;
  std::string output_prefix_;
  std::string working_directory_;
  bool core_dumps_ = false;
};

class Process {
public:
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  Clock::time_point started_at() const { return started_at_; }
  // When the test saw the process end (set by wait() / is_running()).
  Clock::time_point ended_at() const { return ended_at_; }
  milliseconds run_time() const;

  // Waits for the end. At the deadline the test fails, the process (group) is killed with
  // SIGKILL, and the status says timed_out.
  ExitStatus wait(milliseconds timeout);
  // The kernel wrote a core dump when the process died (WCOREDUMP), wherever core_pattern sends
  // it (a file, or a pipe to a crash handler). Only possible with Command::allow_core_dumps().
  bool dumped_core() const { return dumped_core_; }
  bool is_running();
  void send_signal(int signal) const;
  // The signal to every process in its process group (requires own_process_group or a terminal).
  void signal_group(int signal) const;

  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }
  // "argv[0] argv[1] ..." for messages.
  const std::string& description() const { return description_; }

private:
  friend class Command;
  Process() = default;
  void reap(int raw_status);
  bool wait_until(Clock::time_point deadline);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool has_group_ = false;
  bool dumped_core_ = false;
  std::optional<ExitStatus> status_;
  Clock::time_point started_at_{};
  Clock::time_point ended_at_{};
  std::string stdout_path_;
  std::string stderr_path_;
  std::string description_;
};

// Runs to the end (with a timeout) and returns the status; the Process keeps the output.
struct Finished {
  ExitStatus status;
  std::string out;
  std::string err;
  milliseconds run_time{};
};
Finished run(const Command& command, milliseconds timeout = 10s);

std::string read_file(const std::string& path);

// A live child of `parent` (from /proc), e.g. the command under a buildlock: nullopt when it has
// none. The trees the tests build have one child per process.
std::optional<pid_t> child_of(pid_t parent);

// `kill -9` of a whole job: `buildlock`'s own process group (it must have one), then the group
// of its command (it has one of its own outside a terminal's foreground). Fails the test when
// there is no command.
void kill_job_with_sigkill(const Process& buildlock);

} // namespace buildlock::test
