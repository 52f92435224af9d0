// bench_stamp: the command the benchmark runs under a lock (through buildlock or flock(1)).
// It reports when it really started and ended, on CLOCK_MONOTONIC, so that handoff and reclaim
// latencies are measured from events and not inferred.
//
//   bench_stamp record FILE WORKER PER_WORKER WORKERS LOCK_FILE
//     Holds until every other worker that still has acquisitions to make is parked in flock(2)
//     on LOCK_FILE (seen in /proc/locks), so the next handoff always has a waiter ready; then
//     appends "WORKER START END PARKED\n" to FILE. FILE is only written under the lock, so it
//     also tells which acquisitions came before this one.
//   bench_stamp hold FILE WORKER MILLISECONDS
//     Holds for MILLISECONDS (a fixed critical section, the same under every tool and mode),
//     then appends "WORKER START END\n" to FILE in one write(2). Shared and slotted holders run
//     it at the same time; O_APPEND keeps their lines whole.
//   bench_stamp notify FD [HOLD_SECONDS]
//     Writes "PID START\n" to FD at once, then (with HOLD_SECONDS) waits to be killed.
//   bench_stamp compile MILLISECONDS INPUT OUTPUT
//     A stand-in for a small compile (the build scenario's heavier steps): spends MILLISECONDS of
//     its own CPU time (user, on CLOCK_PROCESS_CPUTIME_ID, so a busy machine stretches its wall
//     time but not its work), then copies INPUT to OUTPUT.
//   bench_stamp rusage FD COMMAND...
//     Runs COMMAND in a forked child and writes "STATUS MAX_RSS_KIB\n" (wait4) to FD. A process
//     started with vfork (posix_spawn) inherits its parent's peak RSS at exec, which would charge
//     the benchmark's own memory to the tool; forked from this small static program, the tool's
//     figure carries only this program's few hundred KiB.
#include "bench_clock.h"
#include "proc_locks.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace buildlock::bench;

constexpr std::int64_t park_wait_limit_ns = 10'000'000'000; // then the sample is marked unparked
constexpr timespec park_poll_interval{0, 250'000};

int fail(const char* what) {
  std::fprintf(stderr, "bench_stamp: error: %s: %s\n", what, std::strerror(errno));
  return 1;
}

bool write_line(int fd, const std::string& line) {
  return ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
}

// Other workers with acquisitions still to make: each will park on the lock soon.
// (stdio, not iostreams: this runs while the lock is held and the clock is running.)
int waiters_to_expect(const char* file, long worker, long per_worker, long workers) {
  std::vector<long> done(static_cast<std::size_t>(workers), 0);
  if (std::FILE* records = std::fopen(file, "re")) {
    long record_worker = 0;
    while (std::fscanf(records, "%ld %*[^\n]", &record_worker) == 1) {
      if (record_worker >= 0 && record_worker < workers) {
        ++done[static_cast<std::size_t>(record_worker)];
      }
    }
    std::fclose(records);
  }
  int expected = 0;
  for (long other = 0; other < workers; ++other) {
    if (other != worker && done[static_cast<std::size_t>(other)] < per_worker) {
      ++expected;
    }
  }
  return expected;
}

int record(char** argv) {
  const std::int64_t start = monotonic_ns();
  const char* file = argv[0];
  const long worker = std::atol(argv[1]);
  const long per_worker = std::atol(argv[2]);
  const long workers = std::atol(argv[3]);
  const auto lock_file = file_key(argv[4]);
  if (!lock_file) {
    return fail("lock file not found");
  }
  const int expected = waiters_to_expect(file, worker, per_worker, workers);
  bool parked = true;
  while (count_blocked_waiters(*lock_file) < expected) {
    if (monotonic_ns() - start > park_wait_limit_ns) {
      parked = false;
      break;
    }
    nanosleep(&park_poll_interval, nullptr);
  }
  const std::int64_t end = monotonic_ns();
  const int fd = ::open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail("cannot open the record file");
  }
  const std::string line = std::to_string(worker) + " " + std::to_string(start) + " " +
                           std::to_string(end) + " " + (parked ? "1" : "0") + " " +
                           std::to_string(expected) + "\n";
  if (!write_line(fd, line)) {
    return fail("cannot write the record file");
  }
  ::close(fd);
  return 0;
}

int hold_for(char** argv) {
  const std::int64_t start = monotonic_ns();
  const char* file = argv[0];
  const long worker = std::atol(argv[1]);
  const long milliseconds = std::atol(argv[2]);
  const timespec duration{milliseconds / 1000, (milliseconds % 1000) * 1'000'000};
  timespec remaining = duration;
  while (nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
  const std::int64_t end = monotonic_ns();
  const int fd = ::open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail("cannot open the record file");
  }
  const std::string line =
      std::to_string(worker) + " " + std::to_string(start) + " " + std::to_string(end) + "\n";
  if (!write_line(fd, line)) {
    return fail("cannot write the record file");
  }
  ::close(fd);
  return 0;
}

int notify(int argc, char** argv) {
  const std::int64_t start = monotonic_ns();
  const int fd = std::atoi(argv[0]);
  if (!write_line(fd, std::to_string(::getpid()) + " " + std::to_string(start) + "\n")) {
    return fail("cannot notify");
  }
  if (argc < 2) {
    return 0;
  }
  // Waiting to be killed; a bounded wait, so that a broken benchmark leaves nothing behind.
  const timespec hold{std::atol(argv[1]), 0};
  nanosleep(&hold, nullptr);
  std::fprintf(stderr, "bench_stamp: error: held for %s s and was never killed\n", argv[1]);
  return 3;
}

int rusage_of(char** argv) {
  const int fd = std::atoi(argv[0]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    return fail("fork");
  }
  if (pid == 0) {
    ::close(fd);
    ::execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      return fail("wait4");
    }
  }
  if (!write_line(fd, std::to_string(status) + " " + std::to_string(usage.ru_maxrss) + "\n")) {
    return fail("cannot report");
  }
  return 0;
}

std::int64_t own_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

int compile(char** argv) {
  const std::int64_t work_ns = std::atol(argv[0]) * std::int64_t(1'000'000);
  // Work the optimiser cannot drop: its result decides an exit status that never happens.
  unsigned long mix = 1;
  while (own_cpu_ns() < work_ns) {
    for (int i = 0; i < 10'000; ++i) {
      mix = mix * 6364136223846793005UL + 1442695040888963407UL;
    }
  }
  if (mix == 0) {
    return 3;
  }
  const int input = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  if (input < 0) {
    return fail("cannot open the input");
  }
  const int output = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (output < 0) {
    return fail("cannot create the output");
  }
  char buffer[4096];
  ssize_t got = 0;
  while ((got = ::read(input, buffer, sizeof buffer)) > 0) {
    if (::write(output, buffer, std::size_t(got)) != got) {
      return fail("cannot write the output");
    }
  }
  if (got < 0 || ::close(output) != 0) {
    return fail("cannot copy the input");
  }
  ::close(input);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 7 && std::strcmp(argv[1], "record") == 0) {
    return record(argv + 2);
  }
  if (argc == 5 && std::strcmp(argv[1], "hold") == 0) {
    return hold_for(argv + 2);
  }
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "notify") == 0) {
    return notify(argc - 2, argv + 2);
  }
  if (argc == 5 && std::strcmp(argv[1], "compile") == 0) {
    return compile(argv + 2);
  }
  if (argc >= 4 && std::strcmp(argv[1], "rusage") == 0) {
    return rusage_of(argv + 2);
  }
  std::fprintf(stderr, "usage: bench_stamp record FILE WORKER PER_WORKER WORKERS LOCK_FILE\n"
                       "       bench_stamp hold FILE WORKER MILLISECONDS\n"
                       "       bench_stamp notify FD [HOLD_SECONDS]\n"
                       "       bench_stamp compile MILLISECONDS INPUT OUTPUT\n"
                       "       bench_stamp rusage FD COMMAND...\n");
  return 2;
}
