#include "os/process_identity.h"

#include "os/fd.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace buildlock::os {
namespace {

using ProcStat = ProcessStatus;

#if defined(__linux__)
// /proc/PID/stat: "pid (comm) state ppid ... starttime(22) ...". comm may hold spaces and
// parentheses, so fields are counted from the last ')'.
std::optional<ProcStat> read_proc_stat(std::int64_t pid) {
  // One read() into a buffer, parsed by hand: an ifstream and an istringstream cost about 17,000
  // instructions a call (locale set-up, one extraction per field), and --die-with-parent reads
  // its parent's at every wake-up (docs/performance.md, issue 23).
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%lld/stat", static_cast<long long>(pid));
  const Fd file(::open(path, O_RDONLY | O_CLOEXEC));
  if (!file) {
    return std::nullopt;
  }
  char buffer[4096]; // 52 fields of at most 20 digits and a 16-byte name: well under 2 KiB
  ssize_t got = -1;
  do {
    got = ::read(file.get(), buffer, sizeof buffer);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    return std::nullopt;
  }
  const std::string_view line(buffer, static_cast<std::size_t>(got));
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat result;
  result.name = std::string(line.substr(open + 1, close - open - 1));
  // Fields 3 (state) to 22 (start time), separated by single spaces after the name.
  std::string_view rest = line.substr(close + 1);
  const auto next_field = [&rest]() -> std::optional<std::string_view> {
    const auto begin = rest.find_first_not_of(" \n");
    if (begin == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(begin);
    const auto end = std::min(rest.find_first_of(" \n"), rest.size());
    const std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end);
    return field;
  };
  const auto number = [](std::string_view text, auto& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
  };
  const auto state = next_field();
  const auto parent = next_field();
  const auto group = next_field();
  if (!state || state->size() != 1 || !parent || !number(*parent, result.parent) || !group ||
      !number(*group, result.process_group)) {
    return std::nullopt;
  }
  result.state = state->front();
  std::optional<std::string_view> field;
  for (int index = 6; index <= 22; ++index) {
    field = next_field();
    if (!field) {
      return result;
    }
  }
  std::uint64_t start = 0;
  if (number(*field, start)) {
    result.start_time = start;
  }
  return result;
}

std::string read_first_line(const char* path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

std::string read_link(const char* path) {
  char buffer[256];
  const ssize_t n = ::readlink(path, buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}
#elif defined(__APPLE__)
std::optional<ProcStat> read_proc_stat(std::int64_t pid) {
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, static_cast<int>(pid)};
  struct kinfo_proc info {};
  size_t size = sizeof info;
  if (::sysctl(mib, 4, &info, &size, nullptr, 0) != 0 || size == 0) {
    return std::nullopt;
  }
  ProcStat result;
  result.name = info.kp_proc.p_comm;
  result.state = info.kp_proc.p_stat == SZOMB ? 'Z' : 'R';
  result.parent = info.kp_eproc.e_ppid;
  result.process_group = info.kp_eproc.e_pgid;
  const auto& start = info.kp_proc.p_starttime;
  result.start_time = std::uint64_t(start.tv_sec) * 1'000'000 + std::uint64_t(start.tv_usec);
  return result;
}

std::string boot_session_uuid() {
  char buffer[64] = {};
  size_t size = sizeof buffer;
  if (::sysctlbyname("kern.bootsessionuuid", buffer, &size, nullptr, 0) != 0) {
    return {};
  }
  return buffer;
}
#endif

// The user's name, for people reading a lock (the uid is recorded too). Deliberately not
// getpwuid(): it loads the name-service modules, which cost a static binary its static-ness and
// every `run` a noticeable part of its start-up. $USER / $LOGNAME when set, else /etc/passwd,
// else the number.
std::string user_name(uid_t uid) {
  for (const char* variable : {"USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
      return value;
    }
  }
  std::ifstream passwd("/etc/passwd");
  std::string wanted = std::to_string(uid);
  for (std::string line; std::getline(passwd, line);) {
    // name:password:uid:...
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? first : line.find(':', first + 1);
    const auto third = second == std::string::npos ? second : line.find(':', second + 1);
    if (third != std::string::npos && line.compare(second + 1, third - second - 1, wanted) == 0) {
      return line.substr(0, first);
    }
  }
  return wanted;
}

LocalIdentity read_local_identity() {
  LocalIdentity identity;
  identity.pid = ::getpid();
  if (auto stat = read_proc_stat(identity.pid)) {
    identity.start_time = stat->start_time;
  }
#if defined(__linux__)
  identity.boot_id = read_first_line("/proc/sys/kernel/random/boot_id");
  identity.pid_namespace = read_link("/proc/self/ns/pid");
#elif defined(__APPLE__)
  identity.boot_id = boot_session_uuid();
#endif
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) {
    identity.host = host;
  }
  identity.uid = ::getuid();
  identity.user = user_name(::getuid());
  return identity;
}

} // namespace

const LocalIdentity& local_identity() {
  static const LocalIdentity identity = read_local_identity();
  return identity;
}

bool same_boot(const std::string& recorded, const std::string& observed) {
  return !recorded.empty() && recorded == observed;
}

std::int64_t parent_pid() {
  return ::getppid();
}

std::optional<std::int64_t> parent_of(std::int64_t pid) {
  if (auto stat = read_proc_stat(pid)) {
    return stat->parent;
  }
  return std::nullopt;
}

std::optional<ProcessStatus> process_status(std::int64_t pid) {
  return read_proc_stat(pid);
}

PidProbe probe_pid(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) {
    return {};
  }
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
    return {PidState::dead, std::nullopt};
  }
  // kill() succeeded or failed with EPERM: the pid exists. A zombie has exited already.
  auto stat = read_proc_stat(pid);
  if (!stat) {
    // Exists for kill() but not readable (e.g. hidepid=2): alive, start time unknown.
    return {PidState::alive, std::nullopt};
  }
  if (stat->state == 'Z' || stat->state == 'X') {
    return {PidState::dead, std::nullopt};
  }
  return {PidState::alive, stat->start_time};
}

} // namespace buildlock::os
