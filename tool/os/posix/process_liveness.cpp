#include "os/posix/process_liveness.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace buildlock::os {
namespace {

// "Threads:" in /proc/PID/status counts the leader until it is reaped, so a real zombie says 1.
bool has_running_threads(std::int64_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  constexpr std::string_view key = "Threads:";
  for (std::string line; std::getline(status, line);) {
    if (line.compare(0, key.size(), key) == 0) {
      return std::strtoll(line.c_str() + key.size(), nullptr, 10) > 1;
    }
  }
  return false;
}

} // namespace

bool has_ended(std::int64_t pid, const ProcessStatus& status) {
  return status.state == 'X' || (status.state == 'Z' && !has_running_threads(pid));
}

} // namespace buildlock::os
