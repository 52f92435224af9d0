// Acting as another host that shares the lock directory: the same kernel and filesystem, but
// its own boot id, bind-mounted over /proc/sys/kernel/random/boot_id in a private mount
// namespace. Every buildlock then judges the other's locks by metadata and heartbeat, as on a
// shared filesystem, and the other does not even try their kernel locks.
#pragma once

#include <string>
#include <vector>

namespace buildlock::test {

struct AnotherHost {
  // Put in front of a program's argv to run it there.
  std::vector<std::string> prefix;
  // Empty when it works on this machine; otherwise why not (needs root or CAP_SYS_ADMIN).
  std::string why_not;
};

// Writes the other boot id into `work_dir` and tries the prefix once.
AnotherHost another_host(const std::string& work_dir);

} // namespace buildlock::test
