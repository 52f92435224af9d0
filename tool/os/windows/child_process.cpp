// A command on Windows: a process created suspended, put in a Job object with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, then resumed.
//
// A byte-range lock (LockFileEx) belongs to one process and is never shared with a child, so
// buildlock keeps the lock itself, and the job makes its command unable to outlive it: when
// buildlock dies (killed by Task Manager, `taskkill /F`, a closed console), the OS closes its
// handles, the last handle of the job with them, and every process in the job is terminated.
// Nothing the command started runs on without the lock. The job handle is not inheritable (a
// child holding a copy would keep the job, and so the tree, alive), and the process is assigned
// before it runs a single instruction, so that nothing it starts escapes.
#include "os/child_process.h"

#include "os/windows/command_job.h"
#include "os/windows/native.h"
#include "os/windows/signal_numbers.h"

namespace buildlock::os {
namespace {

// One argument quoted so that CommandLineToArgvW and the C runtime's parser give it back intact:
// backslashes are literal except before a quote, where 2n (+1) backslashes stand for n (and a
// literal quote). An empty argument must be written as "".
void append_quoted(std::wstring& line, const std::wstring& argument) {
  if (!line.empty()) {
    line += L' ';
  }
  if (!argument.empty() && argument.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += argument;
    return;
  }
  line += L'"';
  std::size_t backslashes = 0;
  for (const wchar_t c : argument) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      line.append(backslashes * 2 + 1, L'\\');
    } else {
      line.append(backslashes, L'\\');
    }
    backslashes = 0;
    line += c;
  }
  line.append(backslashes * 2, L'\\'); // before the closing quote
  line += L'"';
}

bool same_name(std::wstring_view a, std::wstring_view b) {
  // Environment variable names are case-insensitive on Windows.
  return CompareStringOrdinal(a.data(), static_cast<int>(a.size()), b.data(),
                              static_cast<int>(b.size()), TRUE) == CSTR_EQUAL;
}

// This process's environment with `overrides` set, as a block for CreateProcessW: NAME=VALUE
// entries, each ending in NUL, and one more NUL.
std::wstring environment_block(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::wstring block;
  wchar_t* const strings = GetEnvironmentStringsW();
  for (const wchar_t* entry = strings; entry != nullptr && *entry != L'\0';) {
    const std::wstring_view text(entry);
    // Names start after the first character: the per-drive entries look like "=C:=C:\\dir".
    const std::wstring_view name = text.substr(0, text.find(L'=', 1));
    bool overridden = false;
    for (const auto& [override_name, value] : overrides) {
      overridden = overridden || same_name(name, widen(override_name));
    }
    if (!overridden) {
      block.append(text).push_back(L'\0');
    }
    entry += text.size() + 1;
  }
  FreeEnvironmentStringsW(strings);
  for (const auto& [name, value] : overrides) {
    block.append(widen(name)).append(L"=").append(widen(value)).push_back(L'\0');
  }
  block.push_back(L'\0');
  return block;
}

Error spawn_error(const std::string& command, DWORD error) {
  const std::string what = "cannot run `" + command + "`";
  if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ||
      error == ERROR_INVALID_NAME) {
    return Error{ErrorKind::command_not_found, what + ": command not found"};
  }
  return Error{ErrorKind::command_not_executable,
               what + ": CreateProcess failed with error " + std::to_string(error)};
}

// A job whose processes all die when its last handle closes. Default security attributes: the
// handle is not inheritable.
HANDLE create_kill_on_close_job() {
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  if (job == nullptr) {
    return nullptr;
  }
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
    CloseHandle(job);
    return nullptr;
  }
  return job;
}

DWORD active_processes(HANDLE job) {
  JOBOBJECT_BASIC_ACCOUNTING_INFORMATION accounting{};
  if (!QueryInformationJobObject(job, JobObjectBasicAccountingInformation, &accounting,
                                 sizeof accounting, nullptr)) {
    return 0;
  }
  return accounting.ActiveProcesses;
}

} // namespace

std::optional<int> death_signal(const ExitStatus& status) {
  if (static_cast<unsigned long>(static_cast<unsigned int>(status.code)) ==
      windows_signal::control_c_exit) {
    return windows_signal::interrupt;
  }
  return std::nullopt;
}

Result<ChildProcess>
ChildProcess::spawn(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& environment,
                    bool own_process_group) {
  std::wstring command_line;
  for (const std::string& argument : argv) {
    append_quoted(command_line, widen(argument));
  }
  std::wstring variables = environment_block(environment);
  HANDLE job = create_kill_on_close_job();
  if (job == nullptr) {
    return Error{ErrorKind::system, "cannot create a job object for `" + argv[0] + "`: error " +
                                        std::to_string(GetLastError())};
  }
  // Created suspended, so that it is in the job before it can start anything. In a process group
  // of its own only when asked (command_in_own_group() says why not, on Windows).
  DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT;
  if (own_process_group) {
    flags |= CREATE_NEW_PROCESS_GROUP;
  }
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION created{};
  // Inherited handles: only those marked inheritable, the standard ones a build tool gave us.
  // buildlock's own (the lock file, the job) are not.
  auto create = [&](DWORD extra_flags) {
    return CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, TRUE, flags | extra_flags,
                          variables.data(), nullptr, &startup, &created);
  };
  if (!create(0)) {
    const DWORD error = GetLastError();
    CloseHandle(job);
    return spawn_error(argv[0], error);
  }
  if (!AssignProcessToJobObject(job, created.hProcess)) {
    // buildlock runs inside a job already, one that takes no nested job (before Windows 8, or
    // with limits a nested job cannot have). Leave that job, where it allows it, for ours.
    TerminateProcess(created.hProcess, windows_signal::killed_exit_code);
    CloseHandle(created.hThread);
    CloseHandle(created.hProcess);
    created = {};
    if (!create(CREATE_BREAKAWAY_FROM_JOB) || !AssignProcessToJobObject(job, created.hProcess)) {
      const DWORD error = GetLastError();
      if (created.hProcess != nullptr) {
        TerminateProcess(created.hProcess, windows_signal::killed_exit_code);
        CloseHandle(created.hThread);
        CloseHandle(created.hProcess);
      }
      CloseHandle(job);
      return Error{ErrorKind::system,
                   "cannot run `" + argv[0] +
                       "` in a job object of its own (buildlock runs in a job that allows "
                       "neither nested jobs nor breaking away): error " +
                       std::to_string(error)};
    }
  }
  ResumeThread(created.hThread);
  CloseHandle(created.hThread);
  ChildProcess child(static_cast<long>(created.dwProcessId), own_process_group);
  child.process_ = created.hProcess;
  child.job_ = job;
  set_running_command(job, created.hProcess);
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), own_group_(other.own_group_),
      children_remain_(other.children_remain_), status_(other.status_),
      process_(std::exchange(other.process_, nullptr)), job_(std::exchange(other.job_, nullptr)) {}

ChildProcess::~ChildProcess() {
  if (process_ == nullptr) {
    return;
  }
  if (!status_) {
    WaitForSingleObject(process_, INFINITE); // buildlock never leaves its command unwatched
  }
  if (running_job() == job_) {
    set_running_command(nullptr, nullptr);
  }
  if (active_processes(job_) != 0) {
    // The command exited normally and left processes running: daemons it meant to leave, which
    // the release rule leaves alone (core/supervise.h), as on POSIX. Without this, closing the
    // job would kill them.
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    SetInformationJobObject(job_, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  }
  CloseHandle(job_);
  CloseHandle(process_);
}

std::optional<ExitStatus> ChildProcess::poll() {
  if (process_ == nullptr) {
    return status_;
  }
  if (!status_ && WaitForSingleObject(process_, 0) == WAIT_OBJECT_0) {
    DWORD code = 0;
    GetExitCodeProcess(process_, &code);
    status_ = ExitStatus{false, static_cast<int>(code)};
    if (running_job() == job_) {
      set_running_command(job_, nullptr); // seen: its exit no longer wakes waits
    }
  }
  children_remain_ = !status_ || active_processes(job_) != 0;
  return status_;
}

void ChildProcess::send_signal(int signal) const {
  if (process_ == nullptr) {
    return;
  }
  if (signal != windows_signal::kill && own_group_ && !status_) {
    // Ctrl+Break: the only console control event that can be aimed at a group.
    GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, static_cast<DWORD>(pid_));
    return;
  }
  // The kill, or any stop of a command that shares our group: no event reaches it without
  // reaching us and the build around us too, so a stop buildlock decides on its own (a gone
  // parent, a lost lock) ends the whole tree at once, latecomers included.
  TerminateJobObject(job_, windows_signal::killed_exit_code);
}

Status make_inheritable(NativeHandle) {
  // Nothing to do: a byte-range lock belongs to the process that took it and is never shared with
  // a child, so the lock file's handle stays buildlock's own. A nested run proves the hold by the
  // pid chain instead (core/nesting.h).
  return ok_status();
}

} // namespace buildlock::os
