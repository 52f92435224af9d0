// What the tests of buildlock.exe on Windows share: starting buildlock.exe and tree_command.exe,
// waiting for files and processes, and a private directory per test.
#pragma once

#include "support/passed_files.h"
#include "test_directory.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>
#include <windows.h>

namespace buildlock::windows_test {

using namespace std::chrono_literals;

// Generous bounds for a loaded machine: they only end a test that would otherwise hang.
inline constexpr auto start_bound = 30s; // until a started tree is running
inline constexpr auto exit_bound = 30s;  // until a process that was told to end has ended

// A Windows path for a path the build gave: under Wine the build ran on Linux, and its paths
// start with '/', which Wine's drive Z: maps.
std::string windows_path(const std::string& path);
std::string buildlock_exe();
std::string tree_command_exe();

// A started process, killed if still running when destroyed.
class Process {
public:
  Process() = default;
  Process(HANDLE handle, DWORD pid, std::string stdout_path, std::string stderr_path);
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  ~Process();

  DWORD pid() const { return pid_; }
  HANDLE handle() const { return handle_; }
  // False when it still runs after `timeout`; else true, with its exit status in `status`.
  bool wait(std::chrono::milliseconds timeout, DWORD& status) const;
  std::string out() const; // what it wrote to stdout so far
  std::string err() const; // what it wrote to stderr so far
  void kill() const;       // TerminateProcess: what Task Manager's "End task" does

private:
  HANDLE handle_ = nullptr;
  DWORD pid_ = 0;
  std::string stdout_path_;
  std::string stderr_path_;
};

// A process the test started indirectly (the leaf of a tree), held by a handle from the moment
// its pid is known, so that the pid cannot be reused meanwhile; terminated, if it still runs,
// when the guard ends: no test leaves a process behind.
class ProcessGuard {
public:
  explicit ProcessGuard(DWORD pid);
  ProcessGuard(ProcessGuard&& other) noexcept;
  ProcessGuard& operator=(ProcessGuard&&) = delete;
  ~ProcessGuard();
  DWORD pid() const { return pid_; }
  bool alive() const;
  // True once the process has exited, false if it still runs after `timeout`.
  bool wait_until_gone(std::chrono::milliseconds timeout) const;

private:
  HANDLE handle_ = nullptr;
  DWORD pid_ = 0;
};

struct Finished {
  DWORD status = 0;
  std::string out;
  std::string err;
};

// The unit tests' private directory (created anew, never one an earlier test left behind: Wine
// reuses process ids at once; kept when the test fails), with Windows paths for its files.
class TestDirectory {
public:
  const std::string& path() const { return directory_.path(); }
  std::string file(const std::string& name) const { return directory_.path() + "\\" + name; }

private:
  test::TestDirectory directory_;
};

// Starts buildlock.exe with `arguments`, stdout and stderr to files in `dir`, on this
// process's console and in this process's group (a command started by a console, or by ninja's
// console pool).
Process start_buildlock(const TestDirectory& dir, const std::vector<std::string>& arguments);
// Runs it to its end (at most a minute).
Finished run_buildlock(const TestDirectory& dir, const std::vector<std::string>& arguments);

// `buildlock run --dir LOCKS [options] LOCK -- tree_command.exe ...`
std::vector<std::string> run_arguments(const TestDirectory& dir, const std::string& lock,
                                       const std::vector<std::string>& options,
                                       const std::vector<std::string>& command);
// A buildlock.exe running tree_command()'s tree under a lock, and guards that end the tree's two
// processes when the test is done: the leaf outlives a tree that exited normally (buildlock leaves
// a command's daemon running, as on POSIX), and a process left running would keep the test's
// output open, so that ctest waits for it until its timeout.
struct HeldTree {
  Process holder;
  DWORD parent = 0;
  DWORD leaf = 0;
  std::vector<ProcessGuard> guards; // the tree's two processes
};
// `buildlock run --dir LOCKS\locks [options] LOCK -- tree_command.exe tree TREE`, once the tree
// runs under the lock. Its command's files are in `tree` (finish_tree(tree, ...) ends it).
HeldTree hold(const TestDirectory& locks, const TestDirectory& tree, const std::string& lock,
              const std::vector<std::string>& options = {});

// Tells the tree of tree_command() in `dir` to exit with `status`, and waits for `holder` (the
// buildlock running it) to end; returns holder's exit status.
DWORD finish_tree(const TestDirectory& dir, const Process& holder, int status);
// The command `tree_command.exe tree DIR [stubborn]`: a tree that waits for DIR\finish.
std::vector<std::string> tree_command(const TestDirectory& dir, bool stubborn = false);
std::vector<std::string> exit_command(int status);

// Waits until `path` exists (a file another process writes by rename, complete).
bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout);
// Waits until `process` has written `part` to stderr.
bool wait_for_output(const Process& process, const std::string& part,
                     std::chrono::milliseconds timeout);
std::vector<std::string> directory_entries(const std::string& path);

// Waits until process `pid` has exited (true), or `timeout` passes (false).
bool wait_for_exit(DWORD pid, std::chrono::milliseconds timeout);
// Whether process `pid` is running (not merely an exited process someone holds a handle to).
bool process_alive(DWORD pid);
DWORD read_pid(const std::string& path);

// True for a single line "buildlock: error: ..." that contains `part`.
bool is_one_error_line(const std::string& err, const std::string& part);

// The exit status of a process that a console control event ended.
inline constexpr DWORD control_c_exit = 0xC000013A;

} // namespace buildlock::windows_test
