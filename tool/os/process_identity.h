// Who a process is, in the terms the lock metadata records, and whether a recorded process is
// still the same one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace buildlock::os {

// Facts about the machine and this process, read once.
struct LocalIdentity {
  std::int64_t pid = 0;
  std::optional<std::uint64_t> start_time;
  std::string boot_id;       // changes at every boot; equal boot ids mean the same kernel
  std::string pid_namespace; // e.g. "pid:[4026531836]"; empty where the OS has no PID namespaces
  std::string host;
  std::string user;
  std::int64_t uid = -1;
};

const LocalIdentity& local_identity();

// Whether two boot ids, as LocalIdentity records them, name the same boot of one machine. POSIX:
// equal, and not empty. Windows has no boot id: its boot id is the boot time, computed as now
// minus the time since boot, which moves a little with every adjustment of the clock; two boot
// times within a tolerance are the same boot (os/windows/process_identity.cpp says why that is
// safe).
bool same_boot(const std::string& recorded, const std::string& observed);

enum class PidState {
  alive,
  dead,    // no such process, or a zombie (its descriptors are closed already)
  unknown, // cannot be checked (not a valid pid for this OS)
};

struct PidProbe {
  PidState state = PidState::unknown;
  std::optional<std::uint64_t> start_time; // when alive and readable
};

// Checks a pid in this PID namespace. EPERM from kill(pid, 0) means alive: the process exists
// but belongs to someone else.
PidProbe probe_pid(std::int64_t pid);

// What /proc/PID/stat (macOS: sysctl KERN_PROC_PID) says of a process.
struct ProcessStatus {
  std::string name; // the kernel's short name (comm), for people
  char state = '?'; // 'Z' or 'X': it has exited already
  std::int64_t parent = 0;
  std::int64_t process_group = 0;
  std::optional<std::uint64_t> start_time;
};
std::optional<ProcessStatus> process_status(std::int64_t pid);

// This process's parent, and the parent of any process (nullopt when it cannot be read).
std::int64_t parent_pid();
std::optional<std::int64_t> parent_of(std::int64_t pid);

} // namespace buildlock::os
