#include "support/windows_process.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace buildlock::windows_test {
namespace {

// The same quoting as buildlock's own (os/windows/child_process.cpp), written again so that a
// mistake there is not repeated here unseen.
std::string quoted(const std::string& argument) {
  if (!argument.empty() && argument.find_first_of(" \t\n\v\"") == std::string::npos) {
    return argument;
  }
  std::string out = "\"";
  std::size_t backslashes = 0;
  for (const char c : argument) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, '\\');
  return out + "\"";
}

HANDLE inheritable_file(const std::string& path, DWORD access, DWORD disposition) {
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  return CreateFileA(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                     &inherit, disposition, FILE_ATTRIBUTE_NORMAL, nullptr);
}

} // namespace

std::string windows_path(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return path;
  }
  std::string converted = "Z:" + path;
  std::replace(converted.begin(), converted.end(), '/', '\\');
  return converted;
}

std::string buildlock_exe() {
  return windows_path(BUILDLOCK_EXE);
}

std::string tree_command_exe() {
  return windows_path(TREE_COMMAND_EXE);
}

Process::Process(HANDLE handle, DWORD pid, std::string stdout_path, std::string stderr_path)
    : handle_(handle), pid_(pid), stdout_path_(std::move(stdout_path)),
      stderr_path_(std::move(stderr_path)) {}

Process::Process(Process&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), pid_(other.pid_),
      stdout_path_(std::move(other.stdout_path_)), stderr_path_(std::move(other.stderr_path_)) {}

Process::~Process() {
  if (handle_ != nullptr) {
    TerminateProcess(handle_, 1);
    WaitForSingleObject(handle_, INFINITE);
    CloseHandle(handle_);
  }
}

bool Process::wait(std::chrono::milliseconds timeout, DWORD& status) const {
  if (WaitForSingleObject(handle_, static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
    return false;
  }
  GetExitCodeProcess(handle_, &status);
  return true;
}

std::string Process::out() const {
  return read_file(stdout_path_);
}

std::string Process::err() const {
  return read_file(stderr_path_);
}

void Process::kill() const {
  TerminateProcess(handle_, 1);
  WaitForSingleObject(handle_, INFINITE);
}

ProcessGuard::ProcessGuard(DWORD pid)
    : handle_(OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid)), pid_(pid) {}

ProcessGuard::ProcessGuard(ProcessGuard&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), pid_(other.pid_) {}

ProcessGuard::~ProcessGuard() {
  if (handle_ != nullptr) {
    TerminateProcess(handle_, 1);
    WaitForSingleObject(handle_, INFINITE);
    CloseHandle(handle_);
  }
}

bool ProcessGuard::alive() const {
  return handle_ != nullptr && WaitForSingleObject(handle_, 0) == WAIT_TIMEOUT;
}

bool ProcessGuard::wait_until_gone(std::chrono::milliseconds timeout) const {
  return handle_ != nullptr &&
         WaitForSingleObject(handle_, static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
}

Process start_buildlock(const TestDirectory& dir, const std::vector<std::string>& arguments) {
  std::string command_line = quoted(buildlock_exe());
  for (const std::string& argument : arguments) {
    command_line += " " + quoted(argument);
  }
  static int runs = 0;
  ++runs;
  const std::string out_path = dir.file("stdout-" + std::to_string(runs) + ".txt");
  const std::string err_path = dir.file("stderr-" + std::to_string(runs) + ".txt");
  HANDLE err = inheritable_file(err_path, GENERIC_WRITE, CREATE_ALWAYS);
  HANDLE out = inheritable_file(out_path, GENERIC_WRITE, CREATE_ALWAYS);
  HANDLE in = inheritable_file("NUL", GENERIC_READ, OPEN_EXISTING);
  STARTUPINFOA startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = in;
  startup.hStdOutput = out;
  startup.hStdError = err;
  PROCESS_INFORMATION created{};
  const BOOL ok = CreateProcessA(nullptr, command_line.data(), nullptr, nullptr, TRUE, 0, nullptr,
                                 nullptr, &startup, &created);
  CloseHandle(err);
  CloseHandle(out);
  CloseHandle(in);
  if (!ok) {
    throw std::runtime_error("cannot start " + command_line);
  }
  CloseHandle(created.hThread);
  return Process(created.hProcess, created.dwProcessId, out_path, err_path);
}

Finished run_buildlock(const TestDirectory& dir, const std::vector<std::string>& arguments) {
  Process process = start_buildlock(dir, arguments);
  Finished finished;
  if (!process.wait(std::chrono::minutes(1), finished.status)) {
    throw std::runtime_error("buildlock.exe still runs after a minute");
  }
  finished.out = process.out();
  finished.err = process.err();
  return finished;
}

std::vector<std::string> run_arguments(const TestDirectory& dir, const std::string& lock,
                                       const std::vector<std::string>& options,
                                       const std::vector<std::string>& command) {
  std::vector<std::string> arguments = {"run", "--dir", dir.file("locks")};
  arguments.insert(arguments.end(), options.begin(), options.end());
  arguments.push_back(lock);
  arguments.push_back("--");
  arguments.insert(arguments.end(), command.begin(), command.end());
  return arguments;
}

std::vector<std::string> tree_command(const TestDirectory& dir, bool stubborn) {
  std::vector<std::string> command = {tree_command_exe(), "tree", dir.path()};
  if (stubborn) {
    command.push_back("stubborn");
  }
  return command;
}

HeldTree hold(const TestDirectory& locks, const TestDirectory& tree, const std::string& lock,
              const std::vector<std::string>& options) {
  HeldTree held{
      start_buildlock(tree, run_arguments(locks, lock, options, tree_command(tree))), 0, 0, {}};
  // Until the tree runs, or buildlock has ended without running it (it said why): a failed start
  // ends the test at once, not after start_bound.
  const auto give_up_at = std::chrono::steady_clock::now() + start_bound;
  DWORD status = 0;
  while (!wait_for_file(tree.file("ready"), 20ms)) {
    if (held.holder.wait(0ms, status) || std::chrono::steady_clock::now() > give_up_at) {
      throw std::runtime_error("the tree under the lock did not start: " + held.holder.err());
    }
  }
  held.parent = read_pid(tree.file("parent.pid"));
  held.leaf = read_pid(tree.file("leaf.pid"));
  held.guards.emplace_back(held.parent);
  held.guards.emplace_back(held.leaf);
  return held;
}

DWORD finish_tree(const TestDirectory& dir, const Process& holder, int status) {
  write_file(dir.file("finish"), std::to_string(status));
  DWORD exit_status = 0;
  if (!holder.wait(exit_bound, exit_status)) {
    throw std::runtime_error("buildlock.exe still runs after its command was told to finish");
  }
  return exit_status;
}

std::vector<std::string> exit_command(int status) {
  return {tree_command_exe(), "exit", std::to_string(status)};
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!file_exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    Sleep(5);
  }
  return true;
}

bool wait_for_output(const Process& process, const std::string& part,
                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process.err().find(part) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    Sleep(5);
  }
  return true;
}

std::vector<std::string> directory_entries(const std::string& path) {
  std::vector<std::string> names;
  WIN32_FIND_DATAA entry{};
  HANDLE search = FindFirstFileA((path + "\\*").c_str(), &entry);
  if (search == INVALID_HANDLE_VALUE) {
    return names;
  }
  do {
    const std::string name = entry.cFileName;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  } while (FindNextFileA(search, &entry));
  FindClose(search);
  std::sort(names.begin(), names.end());
  return names;
}

bool wait_for_exit(DWORD pid, std::chrono::milliseconds timeout) {
  HANDLE process = OpenProcess(SYNCHRONIZE, FALSE, pid);
  if (process == nullptr) {
    return true; // gone, and no handle keeps it
  }
  const bool exited =
      WaitForSingleObject(process, static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
  CloseHandle(process);
  return exited;
}

bool process_alive(DWORD pid) {
  HANDLE process = OpenProcess(SYNCHRONIZE, FALSE, pid);
  if (process == nullptr) {
    return false;
  }
  const bool running = WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
  CloseHandle(process);
  return running;
}

DWORD read_pid(const std::string& path) {
  return static_cast<DWORD>(std::stoul(read_file(path)));
}

bool is_one_error_line(const std::string& err, const std::string& part) {
  std::string line = err;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  return line.rfind("buildlock: error: ", 0) == 0 && line.find('\n') == std::string::npos &&
         line.find(part) != std::string::npos;
}

} // namespace buildlock::windows_test
