// The processes a command started, on Windows: the members of its Job object.
//
// Windows keeps no tree worth walking: a process records its parent's id, which is reused once
// the parent is gone, and an orphan is nobody's child. The job (os/windows/child_process.cpp)
// holds every process the command started, whatever became of their parents, so it is the set of
// descendants, and "the job is empty" is "nothing the command started is left".
#include "os/process_tree.h"

#include "os/windows/command_job.h"
#include "os/windows/native.h"
#include "os/windows/signal_numbers.h"

#include <map>
#include <tlhelp32.h>

namespace buildlock::os {
namespace {

// Every process's executable name, for messages.
std::map<std::uint32_t, std::string> process_names() {
  std::map<std::uint32_t, std::string> names;
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) {
    return names;
  }
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof entry;
  for (BOOL more = Process32FirstW(snapshot, &entry); more;
       more = Process32NextW(snapshot, &entry)) {
    names[entry.th32ProcessID] = narrow(entry.szExeFile);
  }
  CloseHandle(snapshot);
  return names;
}

} // namespace

bool adopt_orphaned_descendants() {
  // Nothing to do: the command's Job object holds every process it starts, orphans included.
  return true;
}

std::vector<Descendant> live_descendants(std::int64_t fallback_process_group) {
  std::vector<Descendant> found;
  const std::vector<std::uint32_t> ids = job_processes(running_job());
  if (ids.empty()) {
    return found;
  }
  const auto names = process_names();
  for (const std::uint32_t id : ids) {
    const auto name = names.find(id);
    // Windows does not tell a process's group; most stay in the command's, where it put them.
    found.push_back({static_cast<std::int64_t>(id), fallback_process_group,
                     name != names.end() ? name->second : std::string("?"), std::nullopt});
  }
  return found;
}

SignalDelivery signal_and_continue(const Descendant& target, int signal) {
  // By id, as the job listed it. (An id freed and reused between the listing and OpenProcess is
  // not guarded against here: docs/windows.md.)
  const auto pid = static_cast<DWORD>(target.pid);
  if (signal == windows_signal::kill) {
    HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, pid);
    if (process == nullptr) {
      return SignalDelivery::gone;
    }
    TerminateProcess(process, windows_signal::killed_exit_code);
    CloseHandle(process);
    return SignalDelivery::sent;
  }
  // Reaches `pid` only when it leads a process group of its own (then its whole group); the rest
  // get the kill --kill-after later.
  return GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) ? SignalDelivery::sent
                                                         : SignalDelivery::gone;
}

bool signals_through_pidfds() {
  return false; // no pidfds; process HANDLEs of the job's members instead
}

void continue_process(const Descendant&) {
  // Windows has no stopped processes to wake (a suspended thread is another matter, and not a
  // state anyone leaves a build in by accident).
}

std::int64_t outermost_ancestor_with(std::string_view /*name*/) {
  // Windows shows no other process's environment: each run is a build of its own.
  return static_cast<std::int64_t>(::GetCurrentProcessId());
}

std::int64_t own_process_group() {
  return 0;
}

bool command_in_own_group() {
  // Never. A console control event reaches a process group or the whole console, never one
  // process, so a command sharing our group gets what we get, once: Ctrl+C typed at the console,
  // and the Ctrl+Break ninja aims at the group it made for the step. A group of its own would
  // also start it with Ctrl+C disabled (CREATE_NEW_PROCESS_GROUP), for everything it runs.
  return false;
}

} // namespace buildlock::os
