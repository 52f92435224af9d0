// chaos_holder LOG DETECTORS ROLE WORKER RUN HOLD_US [SLOTS]: the COMMAND of the chaos test, run
// under `buildlock run`; it is the critical section.
//
// On entry it checks, with kernel locks of its own that are independent of buildlock's, whether
// admitting it broke the lock's promise, then appends one line to LOG (O_APPEND, one write, so
// lines from concurrent holders never mix):
//
//   enter WORKER RUN PID ROLE MONOTONIC_NS VERDICT     VERDICT: ok | overlap
//
// stays inside for HOLD_US microseconds, appends `leave WORKER RUN PID ROLE MONOTONIC_NS` and
// exits 0. A holder killed inside leaves an `enter` without a `leave`.
//
// Why kernel locks for the check: a holder killed inside its critical section is gone once it has
// died, although its `enter` line has no `leave`; a SIGSTOPped holder is still inside however long
// it is stopped. A detector lock held by this process is released by the kernel when the process
// dies and kept while it is stopped, so it measures "inside" the way the lock must be judged. It
// is taken before the enter time stamp and released after the leave time stamp, so logged
// intervals lie within the detector's.
//
// The detectors are POSIX record locks (fcntl), not flock: a holder whose wrapper was killed keeps
// buildlock's lock through the descriptor it inherited, and as the last one to have it open, its
// exit is what releases the lock. At exit the kernel drops a process's record locks as it closes
// each descriptor, and releases flock locks only after that, when the last reference to each open
// file goes. So the detector is free before the next holder can be admitted. (flock detectors
// were released after the lock there, and reported overlaps that were none.)
//
// ROLE and its detector in DETECTORS:
//   exclusive  a write lock on `inside`, without waiting: fails if anyone else is inside.
//   reader     a read lock on `inside`, without waiting: fails if an exclusive holder is inside.
//   slot       under the mutex `census` (a write lock, waited for), the first of `slot.1` ..
//              `slot.SLOTS` whose write lock it gets without waiting. None free means SLOTS others
//              are inside. The mutex makes the scan exact: while it is held no other holder takes
//              a slot, and a death can only free one, so a slot found busy was busy throughout.
//
// Exit 0 whatever the verdict (an overlap is reported by the log, not by a lost run); 99 when
// something here fails, which the chaos driver reports as an unexpected exit.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <unistd.h>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "chaos_holder: %s: %s\n", what.c_str(), std::strerror(errno));
  ::_exit(99);
}

long long parse_number(const char* text) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < 0) {
    std::fprintf(stderr, "chaos_holder: not a number: %s\n", text);
    ::_exit(99);
  }
  return value;
}

int open_detector(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    fail("open " + path);
  }
  return fd;
}

// Takes a record lock of `type` (F_RDLCK, F_WRLCK) on the whole file, or releases it (F_UNLCK);
// false when someone else holds a conflicting one and `wait` is false.
bool record_lock(int fd, short type, bool wait, const std::string& what) {
  struct flock whole_file {};
  whole_file.l_type = type;
  whole_file.l_whence = SEEK_SET;
  for (;;) {
    if (::fcntl(fd, wait ? F_SETLKW : F_SETLK, &whole_file) == 0) {
      return true;
    }
    if (!wait && (errno == EACCES || errno == EAGAIN)) {
      return false;
    }
    if (errno != EINTR) {
      fail("lock " + what);
    }
  }
}

// The detector this holder keeps while inside, or -1 when it found the lock's limit reached.
int enter_detector(const std::string& detectors, std::string_view role, long long slots) {
  if (role == "exclusive" || role == "reader") {
    const int inside = open_detector(detectors + "/inside");
    return record_lock(inside, role == "reader" ? F_RDLCK : F_WRLCK, false, "inside") ? inside : -1;
  }
  if (role == "slot") {
    const int census = open_detector(detectors + "/census");
    record_lock(census, F_WRLCK, true, "census");
    int taken = -1;
    for (long long k = 1; k <= slots && taken < 0; ++k) {
      const int slot = open_detector(detectors + "/slot." + std::to_string(k));
      if (record_lock(slot, F_WRLCK, false, "a slot")) {
        taken = slot;
      } else {
        ::close(slot);
      }
    }
    ::close(census); // releases the mutex
    return taken;
  }
  std::fprintf(stderr, "chaos_holder: unknown role %.*s\n", static_cast<int>(role.size()),
               role.data());
  ::_exit(99);
}

long long monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void append_line(int log, const std::string& line) {
  const ssize_t written = ::write(log, line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) {
    fail("append to the log");
  }
}

void stay_inside(long long microseconds) {
  timespec until{};
  ::clock_gettime(CLOCK_MONOTONIC, &until);
  const long long end_ns =
      static_cast<long long>(until.tv_sec) * 1'000'000'000 + until.tv_nsec + microseconds * 1000;
  until.tv_sec = static_cast<time_t>(end_ns / 1'000'000'000);
  until.tv_nsec = static_cast<long>(end_ns % 1'000'000'000);
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: chaos_holder LOG DETECTORS ROLE WORKER RUN HOLD_US [SLOTS]\n");
    return 99;
  }
  const std::string detectors = argv[2];
  const std::string_view role = argv[3];
  const long long worker = parse_number(argv[4]);
  const long long run = parse_number(argv[5]);
  const long long hold_us = parse_number(argv[6]);
  const long long slots = argc == 8 ? parse_number(argv[7]) : 0;

  const int log = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    fail(std::string("open ") + argv[1]);
  }
  const int detector = enter_detector(detectors, role, slots);
  const bool ok = detector >= 0;
  const std::string who = std::to_string(worker) + " " + std::to_string(run) + " " +
                          std::to_string(::getpid()) + " " + std::string(role) + " ";
  append_line(log, "enter " + who + std::to_string(monotonic_ns()) + (ok ? " ok\n" : " overlap\n"));
  stay_inside(hold_us);
  append_line(log, "leave " + who + std::to_string(monotonic_ns()) + "\n");
  if (ok) {
    record_lock(detector, F_UNLCK, false, "detector");
  }
  return 0;
}
