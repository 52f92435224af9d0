// Process identity on Windows: pid plus creation time, the boot time as the boot id.
#include "os/process_identity.h"

#include "os/windows/native.h"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <tlhelp32.h>

namespace buildlock::os {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view boot_id_prefix = "windows-boot-ms:";

// Two computations of the boot time farther apart than this are two boots. The boot time is now
// minus the time since boot, and moves when the clock is adjusted: by a few milliseconds per
// day of NTP slewing, and by the full step when the clock is set. A false "same boot" costs
// nothing (the creation times a pid check compares are absolute, so a pid of the previous boot
// never matches), a false "another boot" makes a lock from this boot wait for the age rule
// instead of a pid check; the tolerance leans the safe way, and no machine boots twice in it.
constexpr auto boot_time_tolerance = 30s;

std::uint64_t to_integer(const FILETIME& time) {
  return (std::uint64_t(time.dwHighDateTime) << 32) | time.dwLowDateTime;
}

// A process's creation time in 100 ns units since 1601 (UTC): absolute, so it differs across
// reboots, unlike Linux's start time since boot.
std::optional<std::uint64_t> creation_time(HANDLE process) {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!GetProcessTimes(process, &created, &exited, &kernel, &user)) {
    return std::nullopt;
  }
  return to_integer(created);
}

std::optional<std::uint64_t> creation_time_of(std::int64_t pid) {
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) {
    return std::nullopt;
  }
  auto created = creation_time(process);
  CloseHandle(process);
  return created;
}

// Milliseconds since the Unix epoch at which this machine booted.
std::int64_t boot_time_ms() {
  FILETIME now{};
  GetSystemTimeAsFileTime(&now);
  constexpr std::uint64_t unix_epoch_in_filetime = 116444736000000000ULL;
  const auto now_ms = static_cast<std::int64_t>((to_integer(now) - unix_epoch_in_filetime) / 10000);
  return now_ms - static_cast<std::int64_t>(GetTickCount64());
}

std::optional<std::int64_t> parse_boot_time(const std::string& boot_id) {
  if (boot_id.compare(0, boot_id_prefix.size(), boot_id_prefix) != 0) {
    return std::nullopt;
  }
  std::int64_t ms = 0;
  const char* first = boot_id.data() + boot_id_prefix.size();
  const char* last = boot_id.data() + boot_id.size();
  const auto [end, error] = std::from_chars(first, last, ms);
  if (error != std::errc() || end != last) {
    return std::nullopt;
  }
  return ms;
}

struct SnapshotEntry {
  std::int64_t parent = 0;
  std::string name;
};

std::optional<SnapshotEntry> snapshot_entry(std::int64_t pid) {
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) {
    return std::nullopt;
  }
  std::optional<SnapshotEntry> found;
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof entry;
  for (BOOL more = Process32FirstW(snapshot, &entry); more && !found;
       more = Process32NextW(snapshot, &entry)) {
    if (static_cast<std::int64_t>(entry.th32ProcessID) == pid) {
      found = SnapshotEntry{static_cast<std::int64_t>(entry.th32ParentProcessID),
                            narrow(entry.szExeFile)};
    }
  }
  CloseHandle(snapshot);
  return found;
}

std::string computer_name() {
  wchar_t buffer[256] = {};
  DWORD size = 256;
  if (!GetComputerNameExW(ComputerNameDnsHostname, buffer, &size)) {
    return {};
  }
  return narrow(std::wstring(buffer, size));
}

std::string user_name() {
  wchar_t buffer[257] = {};
  DWORD size = 257;
  if (GetUserNameW(buffer, &size) && size > 0) {
    return narrow(std::wstring(buffer, size - 1)); // size counts the NUL
  }
  const char* variable = std::getenv("USERNAME");
  return variable != nullptr ? variable : "";
}

LocalIdentity read_local_identity() {
  LocalIdentity identity;
  identity.pid = GetCurrentProcessId();
  identity.start_time = creation_time(GetCurrentProcess());
  identity.boot_id = std::string(boot_id_prefix) + std::to_string(boot_time_ms());
  identity.host = computer_name();
  identity.user = user_name();
  // Windows users are SIDs, not numbers: the metadata's uid stays empty (-1 is "none").
  return identity;
}

} // namespace

const LocalIdentity& local_identity() {
  static const LocalIdentity identity = read_local_identity();
  return identity;
}

bool same_boot(const std::string& recorded, const std::string& observed) {
  const auto recorded_ms = parse_boot_time(recorded);
  const auto observed_ms = parse_boot_time(observed);
  if (!recorded_ms || !observed_ms) {
    return !recorded.empty() && recorded == observed;
  }
  return std::chrono::milliseconds(std::abs(*recorded_ms - *observed_ms)) <= boot_time_tolerance;
}

PidProbe probe_pid(std::int64_t pid) {
  if (pid <= 0 || pid > 0xFFFFFFFFLL) {
    return {};
  }
  HANDLE process =
      OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) {
    // ERROR_INVALID_PARAMETER: no such process. Anything else (ERROR_ACCESS_DENIED: another
    // user's, or a protected one) means it exists.
    return GetLastError() == ERROR_INVALID_PARAMETER ? PidProbe{PidState::dead, std::nullopt}
                                                     : PidProbe{PidState::alive, std::nullopt};
  }
  // A process that has exited lives on as an object while someone holds a handle to it; its
  // handle is signalled then (unlike an exit code, which a live process may equal).
  const bool exited = WaitForSingleObject(process, 0) == WAIT_OBJECT_0;
  PidProbe probe{exited ? PidState::dead : PidState::alive, std::nullopt};
  if (!exited) {
    probe.start_time = creation_time(process);
  }
  CloseHandle(process);
  return probe;
}

std::optional<ProcessStatus> process_status(std::int64_t pid) {
  auto entry = snapshot_entry(pid);
  if (!entry) {
    return std::nullopt;
  }
  ProcessStatus status;
  status.name = std::move(entry->name);
  status.state = 'R';
  status.parent = entry->parent;
  status.start_time = creation_time_of(pid);
  return status;
}

std::optional<std::int64_t> parent_of(std::int64_t pid) {
  // Windows records the parent's id and never updates it: once the parent exits, the id may name
  // an unrelated process started later. A parent is only one that is alive and older.
  auto entry = snapshot_entry(pid);
  if (!entry) {
    return std::nullopt;
  }
  const auto child_created = creation_time_of(pid);
  const auto parent_created = creation_time_of(entry->parent);
  if (!child_created || !parent_created || *parent_created > *child_created ||
      probe_pid(entry->parent).state != PidState::alive) {
    return std::nullopt;
  }
  return entry->parent;
}

std::int64_t parent_pid() {
  // 0 once the parent is gone, as a POSIX process is re-parented: what --die-with-parent watches.
  return parent_of(GetCurrentProcessId()).value_or(0);
}

} // namespace buildlock::os
