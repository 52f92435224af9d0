// Holders killed with SIGKILL, and `status` over a full directory.
#include "bench_clock.h"
#include "proc_locks.h"
#include "process.h"
#include "scenarios.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace buildlock::bench {
namespace {

constexpr int heard_within_ms = 10'000;
constexpr const char* hold_seconds = "120"; // bench_stamp gives up after this; we kill it first
constexpr std::int64_t park_limit_ns = 10'000'000'000;

struct Notice {
  pid_t pid = -1;
  std::int64_t started_ns = 0;
};

Notice parse_notice(const std::string& line, const std::string& what) {
  char* end = nullptr;
  const long pid = std::strtol(line.c_str(), &end, 10);
  const long long started = std::strtoll(end, nullptr, 10);
  if (pid <= 0 || started <= 0) {
    throw BenchError(what + ": unexpected notice `" + line + "`");
  }
  return {static_cast<pid_t>(pid), started};
}

// The command notifies on descriptor 3, whichever tool runs it.
pid_t spawn_notifying(const Tool& tool, const std::string& lock, const std::string& stamp,
                      Pipe& notices, bool hold) {
  std::vector<std::string> command = {stamp, "notify", "3"};
  if (hold) {
    command.push_back(hold_seconds);
  }
  SpawnOptions options = tool.logged();
  options.descriptors = {{notices.write_end(), 3}};
  return spawn(tool.run(lock, command), options);
}

// Returns once `pid` is parked in flock(2): the waiter is really waiting when the holder dies.
void wait_until_parked(pid_t pid, const std::string& what) {
  const std::int64_t began = monotonic_ns();
  const timespec interval{0, 200'000};
  while (!is_blocked_in_flock(pid)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      throw BenchError(what + ": the waiter ended before the holder was killed");
    }
    if (monotonic_ns() - began > park_limit_ns) {
      throw BenchError(what + ": the waiter never parked in flock(2)");
    }
    nanosleep(&interval, nullptr);
  }
}

double reclaim_once(const Tool& tool, const std::string& stamp, bool waiter_parked) {
  const std::string what = tool.label + " (reclaim)";
  const Holder holder = start_holder(tool, "reclaim", stamp);
  Pipe notices;
  pid_t next = -1;
  if (waiter_parked) {
    next = spawn_notifying(tool, "reclaim", stamp, notices, false);
    wait_until_parked(next, what);
  }
  const std::int64_t killed_at = monotonic_ns();
  kill_hard(holder.wrapper);
  kill_hard(holder.command);
  if (!waiter_parked) {
    next = spawn_notifying(tool, "reclaim", stamp, notices, false);
  }
  const Notice started = parse_notice(notices.read_line(heard_within_ms, what), what);
  expect_success(next, what);
  wait_for(holder.wrapper);
  return double(started.started_ns - killed_at) / 1e6;
}

// Closes the descriptors of the locks this process holds for `status`.
struct HeldDescriptors {
  std::vector<int> fds;
  ~HeldDescriptors() {
    for (int fd : fds) {
      ::close(fd);
    }
  }
};

} // namespace

Holder start_holder(const Tool& tool, const std::string& lock, const std::string& stamp) {
  const std::string what = tool.label + " holder of `" + lock + "`";
  Pipe notices;
  Holder holder;
  holder.wrapper = spawn_notifying(tool, lock, stamp, notices, true);
  holder.command = parse_notice(notices.read_line(heard_within_ms, what), what).pid;
  return holder;
}

void kill_holder(const Holder& holder) {
  kill_hard(holder.wrapper);
  kill_hard(holder.command);
  wait_for(holder.wrapper);
}

Reclaim measure_reclaim(const Setup& setup, const std::string& stamp, int samples,
                        int first_sample) {
  Reclaim result;
  for (int sample = first_sample; sample < first_sample + samples; ++sample) {
    for (ToolIndex index : order_for(sample)) {
      result.parked_waiter_ms[index].push_back(reclaim_once(setup.tools[index], stamp, true));
    }
    for (ToolIndex index : order_for(sample + 1)) {
      result.new_run_ms[index].push_back(reclaim_once(setup.tools[index], stamp, false));
    }
  }
  return result;
}

StatusTiming measure_status(const std::string& buildlock, const std::string& lslocks,
                            const std::string& stamp, const std::string& directory, int locks,
                            int repetitions) {
  fresh_directory(directory);
  const Tool tool{buildlock_tool, "buildlock", buildlock, directory, directory + ".messages"};
  // One real orphan and one real live holder; the rest are copies of their lock files.
  const Holder orphan = start_holder(tool, "orphan-0", stamp);
  kill_holder(orphan);
  const Holder live = start_holder(tool, "held-0", stamp);
  const std::string orphan_bytes = read_file(tool.lock_path("orphan-0"));
  const std::string held_bytes = read_file(tool.lock_path("held-0"));

  StatusTiming result;
  result.held = locks / 2 > 0 ? locks / 2 : 1;
  HeldDescriptors held;
  for (int i = 1; i < result.held; ++i) {
    const std::string path = tool.lock_path("held-" + std::to_string(i));
    write_file(path, held_bytes);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      throw BenchError("cannot hold `" + path + "` (raise the open files limit?)");
    }
    held.fds.push_back(fd);
  }
  for (int i = 1; i < locks - result.held; ++i) {
    write_file(tool.lock_path("orphan-" + std::to_string(i)), orphan_bytes);
  }

  SpawnOptions to_null;
  to_null.stdout_path = "/dev/null";
  const std::vector<std::string> status = {buildlock, "status", "--dir", directory};
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    for (ToolIndex index : order_for(repetition)) {
      if (index == flock_tool && lslocks.empty()) {
        continue;
      }
      const std::int64_t began = monotonic_ns();
      if (index == buildlock_tool) {
        expect_success(spawn(status, to_null), "buildlock status");
      } else {
        expect_success(spawn({lslocks}, to_null), "lslocks");
      }
      result.wall_ms[index].push_back(double(monotonic_ns() - began) / 1e6);
    }
  }
  kill_holder(live);
  return result;
}

} // namespace buildlock::bench
