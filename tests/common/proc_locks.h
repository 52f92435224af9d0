// Reading /proc/locks (proc(5)): the kernel's locks on files, and the requests blocked behind
// them. The one parser of the suites that look at the kernel's locks: the integration tests' proof
// that a waiter sleeps in flock(2), the chaos test's hang report and the benchmark's "a waiter is
// parked". Lines look like
//   1: FLOCK  ADVISORY  WRITE 14221 fe:00:10952874 0 EOF       a lock held
//   1: -> FLOCK  ADVISORY  WRITE 14224 fe:00:10952874 0 EOF    a request blocked behind lock 1
//   2: POSIX  ADVISORY  READ 1290 08:02:1234 100 199           a byte range
//   3: OFDLCK ADVISORY  WRITE -1 fe:00:11198851 0 EOF          an open file's lock: no pid
// with the device's major and minor numbers in hexadecimal, the inode in decimal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::test {

enum class ProcLockType { flock, posix, ofd, other }; // FLOCK, POSIX, OFDLCK; LEASE, DELEG...
enum class ProcLockMode { read, write, other };       // READ, WRITE; UNLCK (a lease let go)...

struct ProcLock {
  // The lock's number; a blocked request has the number of the lock it waits behind.
  long long id = 0;
  // A request waiting for the lock ("->"), not a lock held.
  bool blocked = false;
  ProcLockType type = ProcLockType::other;
  ProcLockMode mode = ProcLockMode::other;
  // The owner; -1 for an OFD lock, which belongs to an open file, not to a process.
  long long pid = 0;
  // The file: its device and inode.
  unsigned major = 0;
  unsigned minor = 0;
  std::uint64_t inode = 0;
  // The bytes locked, from `start` to `end` included; no end: to the end of the file ("EOF").
  std::uint64_t start = 0;
  std::optional<std::uint64_t> end;
  // The line as the kernel wrote it (without its newline), for messages.
  std::string line;
};

// One line; nullopt when it is not a lock line as above.
std::optional<ProcLock> parse_proc_lock(std::string_view line);

// Every lock line of `path`, in its order; lines that are not lock lines are left out, and a
// file that cannot be read has none. Plain stdio, no iostreams: the benchmark's bench_stamp reads
// it while it holds a lock under measurement.
std::vector<ProcLock> read_proc_locks(const char* path = "/proc/locks");

} // namespace buildlock::test
