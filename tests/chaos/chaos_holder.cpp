// chaos_holder LOG DETECTORS ROLE WORKER RUN HOLD_US SLOTS GRANDCHILD_HOLD_US IGNORE_TERM: the
// critical section of the chaos test. It runs as the child of the COMMAND's shell under `buildlock
// run` (`sh -c '"$@"; exit $?'`), and starts a grandchild of that shell in a session of its own,
// which is inside the critical section too: a command that is a tree, as a build is.
//
// Each process of the tree checks on entry, with kernel locks of its own that are independent of
// buildlock's, whether admitting it broke the lock's promise, then appends one line to LOG
// (O_APPEND, one write of a 128-byte record, so lines from concurrent holders never mix, and a
// holder killed while writing never leaves half a line: see append_line()):
//
//   enter WORKER RUN PID ROLE MONOTONIC_NS VERDICT OTHERS
//
// VERDICT: ok | overlap; OTHERS: how many other runs its detector counted inside (the checker
// proves this count never too low, see log_check.h); MONOTONIC_NS: taken while counting.
//
// stays inside for its hold time, appends `leave WORKER RUN PID ROLE MONOTONIC_NS` and exits 0.
// A process killed inside leaves an `enter` without a `leave`. The child waits for the grandchild
// before it leaves (so a tree that ends normally leaves nothing running); a grandchild whose
// parent was killed runs on, an orphan, until its own hold time is over.
//
// The detectors. Processes of one run (one tree) may be inside together, processes of two runs
// only as the lock's mode allows. So each process marks its run's presence with a read lock on
// byte RUN_ID (unique per worker and run) of its role's file in DETECTORS, and counts the other
// runs present by asking the kernel for conflicting locks (F_GETLK), splitting the range at each
// lock found until no part holds one (other_runs(); a scan from the lowest byte on is not exact):
//   exclusive  (file `writers`) no other run may be in `writers` or `readers`;
//   reader     (file `readers`) no run may be in `writers`;
//   slot       (file `slots`)   fewer than SLOTS other runs may be in `slots`.
// Marking and counting happen under the mutex `census` (a write lock, waited for): while it is
// held no run enters, and a death only removes one, so every run counted was present together
// with this one.
//
// Why record locks (fcntl): a process killed inside is out once it has died, although its `enter`
// line has no `leave`; a SIGSTOPped one is still inside however long it is stopped. A record lock
// is dropped by the kernel as the dying process closes each descriptor, and kept while it is
// stopped, so it measures "inside" the way the lock must be judged. Record locks are released
// before any flock lock of the same process is (flock locks go with the last reference to the open
// file, after every descriptor has been closed), so a holder that keeps buildlock's lock through
// an inherited descriptor is out of the detector before the next holder can be admitted. (flock
// detectors were released after the lock there, and reported overlaps that were none.)
//
// IGNORE_TERM 1: the child and the grandchild ignore SIGTERM and SIGINT, as some build tools do;
// only SIGKILL (or the end of their hold) ends them.
//
// Exit 0 whatever the verdict (an overlap is reported by the log, not by a lost run); 99 when
// something here fails, which the chaos driver reports as an unexpected exit.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/wait.h>
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

// Takes a record lock of `type` (F_RDLCK, F_WRLCK) on `length` bytes from `start` (0: to the end
// of the file and beyond), or releases it (F_UNLCK); false when someone else holds a conflicting
// one and `wait` is false.
bool record_lock(int fd, short type, bool wait, const std::string& what, long long start,
                 long long length) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(start);
  range.l_len = static_cast<off_t>(length);
  for (;;) {
    if (::fcntl(fd, wait ? F_SETLKW : F_SETLK, &range) == 0) {
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

// How many runs other than `own_run` hold a byte of `fd` in [from, to) (each run's processes hold
// one byte; to = -1: to the end of the file and beyond). F_GETLK answers with *one* conflicting
// lock in the range, the one of the process that locked first, not the lowest byte: a scan that
// went on after it (a probe with locks at bytes 300, then 100 counted 1 of 2) would miss every run
// below it. So the range is split at the lock found and both sides are asked again, until each
// answers "none": every byte held by another process is found, each run counted once (the
// processes of one run share their byte). Our own locks never conflict with our query.
long long other_runs(int fd, long long own_run, long long from = 0, long long to = -1) {
  if (to >= 0 && from >= to) {
    return 0;
  }
  struct flock query {};
  query.l_type = F_WRLCK;
  query.l_whence = SEEK_SET;
  query.l_start = static_cast<off_t>(from);
  query.l_len = static_cast<off_t>(to < 0 ? 0 : to - from);
  if (::fcntl(fd, F_GETLK, &query) != 0) {
    fail("F_GETLK");
  }
  if (query.l_type == F_UNLCK) {
    return 0;
  }
  const long long start = query.l_start;
  const long long end = query.l_len == 0 ? -1 : start + query.l_len; // -1: to the end and beyond
  // Runs are one byte each, so the lock found is one run: another one, unless it is our own byte
  // (held by another process of our tree).
  const long long this_one = start == own_run && query.l_len == 1 ? 0 : 1;
  return this_one + other_runs(fd, own_run, from, start) +
         (end < 0 ? 0 : other_runs(fd, own_run, end, to));
}

long long monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Marks this process's run as present in its role's detector (kept until exit or leave()), and
// says how many other runs were inside when it entered, and whether that respected the lock.
struct Detector {
  int fd = -1;
  long long others = 0; // other runs counted in the files this role must check
  bool ok = false;
  // Taken under the census, after the count: every run whose `enter` time is earlier marked its
  // byte before this count, so one that logs its `leave` later was counted (the checker relies on
  // it to prove the count exact, see log_check.h).
  long long enter_ns = 0;
};

Detector enter_detector(const std::string& detectors, std::string_view role, long long run_id,
                        long long slots) {
  const int census = open_detector(detectors + "/census");
  record_lock(census, F_WRLCK, true, "census", 0, 0);
  Detector detector;
  if (role == "exclusive" || role == "reader") {
    const int writers = open_detector(detectors + "/writers");
    const int readers = open_detector(detectors + "/readers");
    detector.fd = role == "exclusive" ? writers : readers;
    record_lock(detector.fd, F_RDLCK, false, "own byte", run_id, 1);
    detector.others = other_runs(writers, run_id);
    if (role == "exclusive") {
      detector.others += other_runs(readers, run_id);
    }
    detector.ok = detector.others == 0;
    ::close(role == "exclusive" ? readers : writers); // drops nothing of ours in that file
  } else if (role == "slot") {
    detector.fd = open_detector(detectors + "/slots");
    record_lock(detector.fd, F_RDLCK, false, "own byte", run_id, 1);
    detector.others = other_runs(detector.fd, run_id);
    detector.ok = detector.others < slots;
  } else {
    std::fprintf(stderr, "chaos_holder: unknown role %.*s\n", static_cast<int>(role.size()),
                 role.data());
    ::_exit(99);
  }
  detector.enter_ns = monotonic_ns();
  ::close(census); // releases the mutex
  return detector;
}

// Every line of the log is exactly this long (padded with blanks before its newline).
constexpr std::size_t record_size = 128;

// One write of one whole record. A write to a regular file is copied a page (folio) at a time,
// and a process killed by SIGKILL between two pages stops after the first: a line that straddles
// a page boundary of the log can be cut off, and the next holder's line appended right after it
// (seen once in a flake hunt: `enter 1 37 11134 slot 4766247leave 3 45 ...`). Records of a size
// that divides the page size, appended to a file made only of such records, never straddle one.
void append_line(int log, const std::string& line) {
  if (line.size() >= record_size || line.back() != '\n') {
    std::fprintf(stderr, "chaos_holder: log line too long: %s", line.c_str());
    ::_exit(99);
  }
  std::string record = line.substr(0, line.size() - 1);
  record.resize(record_size - 1, ' ');
  record += '\n';
  const ssize_t written = ::write(log, record.data(), record.size());
  if (written != static_cast<ssize_t>(record.size())) {
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

struct Section {
  int log = -1;
  std::string detectors;
  std::string role;
  long long worker = 0;
  long long run = 0;
  long long slots = 0;
};

// One process's critical section: enter, stay `hold_us`, call `before_leaving`, leave.
template <typename BeforeLeaving>
void inside(const Section& section, long long hold_us, BeforeLeaving before_leaving) {
  // Unique per worker and run (--runs is at most 10,000,000); byte 0 stays unused.
  const long long run_id = section.worker * 10'000'000 + section.run + 1;
  const Detector detector = enter_detector(section.detectors, section.role, run_id, section.slots);
  const std::string who = std::to_string(section.worker) + " " + std::to_string(section.run) + " " +
                          std::to_string(::getpid()) + " " + section.role + " ";
  append_line(section.log, "enter " + who + std::to_string(detector.enter_ns) +
                               (detector.ok ? " ok " : " overlap ") +
                               std::to_string(detector.others) + "\n");
  stay_inside(hold_us);
  before_leaving();
  append_line(section.log, "leave " + who + std::to_string(monotonic_ns()) + "\n");
  record_lock(detector.fd, F_UNLCK, false, "detector", 0, 0);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr, "usage: chaos_holder LOG DETECTORS ROLE WORKER RUN HOLD_US SLOTS "
                         "GRANDCHILD_HOLD_US IGNORE_TERM\n");
    return 99;
  }
  Section section;
  section.detectors = argv[2];
  section.role = argv[3];
  section.worker = parse_number(argv[4]);
  section.run = parse_number(argv[5]);
  const long long hold_us = parse_number(argv[6]);
  section.slots = parse_number(argv[7]);
  const long long grandchild_hold_us = parse_number(argv[8]);
  if (parse_number(argv[9]) != 0) {
    ::signal(SIGTERM, SIG_IGN); // inherited by the grandchild
    ::signal(SIGINT, SIG_IGN);
  }
  section.log = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (section.log < 0) {
    fail(std::string("open ") + argv[1]);
  }
  inside(section, hold_us, [&] {
    // Started inside, so that it overlaps this process's own section, and waited for before
    // leaving, so that a tree that is not killed has ended when its shell ends.
    const pid_t grandchild = ::fork();
    if (grandchild < 0) {
      fail("fork");
    }
    if (grandchild == 0) {
      if (::setsid() < 0) {
        fail("setsid");
      }
      inside(section, grandchild_hold_us, [] {});
      ::_exit(0);
    }
    int status = 0;
    while (::waitpid(grandchild, &status, 0) < 0) {
      if (errno != EINTR) {
        fail("waitpid");
      }
    }
  });
  return 0;
}
