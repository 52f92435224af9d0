#include "support/waiting.h"

#include "common/proc_locks.h"
#include "support/process.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/syscall.h>
#include <thread>

namespace buildlock::test {

::testing::AssertionResult file_eventually_contains(const std::string& path,
                                                    const std::string& needle, milliseconds timeout,
                                                    std::size_t times) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const std::string text = read_file(path);
    if (count_occurrences(text, needle) >= times) {
      return ::testing::AssertionSuccess();
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "`" << path << "` lacks \"" << needle << "\" (" << times << " times) after "
             << timeout.count() << " ms; it holds:\n"
             << text;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
}

Clock::duration median(std::vector<Clock::duration> samples) {
  if (samples.empty()) {
    return Clock::duration::zero();
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::size_t count_occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

namespace {

// The blocked flock requests of process `pid` in /proc/locks, whose lines read
// `3: -> FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF` for a request waiting behind lock 3.
std::vector<std::string> blocked_flock_requests(pid_t pid) {
  std::vector<std::string> blocked;
  for (const ProcLock& lock : read_proc_locks()) {
    if (lock.blocked && lock.type == ProcLockType::flock && lock.pid == pid) {
      blocked.push_back(lock.line);
    }
  }
  return blocked;
}

// What each thread of `pid` is doing: the first field of /proc/PID/task/TID/syscall is the number
// of the system call it sleeps in ("running" when it is not in one).
std::vector<std::string> system_calls_of(pid_t pid) {
  std::vector<std::string> calls;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream syscall(task.path() / "syscall");
    std::string call;
    if (syscall >> call) {
      calls.push_back(call);
    }
  }
  return calls;
}

// Where the threads of `pid` that are inside flock(2) wait in the kernel (/proc/PID/task/TID/
// wchan). A --slots waiter has one such thread per slot; its main thread waits for them.
std::vector<std::string> flock_wchans_of(pid_t pid) {
  std::vector<std::string> wchans;
  const std::string flock_call = std::to_string(SYS_flock);
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream syscall(task.path() / "syscall");
    std::string call;
    if (syscall >> call && call == flock_call) {
      wchans.push_back(read_file(task.path() / "wchan"));
    }
  }
  return wchans;
}

// A wait for a flock(2) lock as kernels name it in wchan (locks_lock_inode_wait since Linux 4.4,
// flock_lock_inode_wait before); "0" or nothing where the kernel hides it.
bool is_flock_wchan(const std::string& wchan) {
  return wchan.empty() || wchan == "0" || wchan.ends_with("lock_inode_wait") ||
         wchan.ends_with("lock_file_wait");
}

} // namespace

Activity activity_of(pid_t pid) {
  Activity activity;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    const std::string stat = read_file(task.path() / "stat");
    // The command name (field 2) may hold spaces: fields are counted after its closing `)`.
    std::istringstream fields(stat.substr(stat.rfind(')') + 1));
    std::string field;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
      if (number >= 14) {
        activity.cpu_ticks += std::stoll(field);
      }
    }
    std::istringstream status(read_file(task.path() / "status"));
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("voluntary_ctxt_switches:") ||
          line.starts_with("nonvoluntary_ctxt_switches:")) {
        activity.switches += std::stoll(line.substr(line.find(':') + 1));
      }
    }
  }
  return activity;
}

::testing::AssertionResult sleeps_in_flock_throughout(pid_t pid, int requests, milliseconds window,
                                                      milliseconds timeout) {
  // A window that lasted far longer than asked (this test starved of the CPU: seen on a machine
  // with a load of 40) may hold a wake-up the waiter has every right to, its next notice 30 s
  // later: such a window proves nothing either way, and is watched again. A poller wakes in every
  // window, however long.
  const auto inconclusive_after = window + std::chrono::seconds(5);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (auto asleep = is_asleep_in_flock(pid, requests, std::max(left, milliseconds(0))); !asleep) {
      return asleep;
    }
    const Activity before = activity_of(pid);
    const std::vector<std::string> wchans = flock_wchans_of(pid);
    const auto started = Clock::now();
    // An observation window, not a synchronisation: a longer one only makes the proof stronger.
    std::this_thread::sleep_for(window);
    const Activity after = activity_of(pid);
    const auto watched = Clock::now() - started;
    auto still = is_asleep_in_flock(pid, requests, milliseconds(0));
    if (still && after == before) {
      for (const std::string& wchan : wchans) {
        if (!is_flock_wchan(wchan)) {
          return ::testing::AssertionFailure()
                 << "process " << pid << " is in flock(2) but waits in `" << wchan
                 << "` (/proc/PID/task/TID/wchan), not in a lock wait";
        }
      }
      return ::testing::AssertionSuccess();
    }
    if (watched <= inconclusive_after || Clock::now() >= deadline) {
      if (!still) {
        return ::testing::AssertionFailure() << "process " << pid << " left flock(2) within "
                                             << to_ms(watched) << " ms: " << still.message();
      }
      return ::testing::AssertionFailure()
             << "process " << pid << " was asleep in flock(2) but not all along: over "
             << to_ms(watched) << " ms its threads used " << after.cpu_ticks - before.cpu_ticks
             << " clock ticks of CPU and were switched in " << after.switches - before.switches
             << " times (a poller wakes up)";
    }
  }
}

std::optional<pid_t> eventually_child_of(pid_t parent, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto child = child_of(parent); child || Clock::now() >= deadline) {
      return child;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
}

::testing::AssertionResult is_asleep_in_flock(pid_t pid, int requests, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string flock_call = std::to_string(SYS_flock);
  for (;;) {
    const std::vector<std::string> blocked = blocked_flock_requests(pid);
    const std::vector<std::string> calls = system_calls_of(pid);
    const auto in_flock = std::count(calls.begin(), calls.end(), flock_call);
    if (static_cast<int>(blocked.size()) >= requests && in_flock >= requests) {
      return ::testing::AssertionSuccess();
    }
    if (Clock::now() >= deadline) {
      std::ostringstream seen;
      seen << "process " << pid << " was not seen asleep in " << requests
           << " blocking flock(2) call(s) within " << timeout.count() << " ms; its blocked "
           << "requests in /proc/locks:";
      for (const std::string& line : blocked) {
        seen << "\n  " << line;
      }
      seen << "\nthe system calls its threads were in (flock is " << flock_call << "):";
      for (const std::string& call : calls) {
        seen << " " << call;
      }
      return ::testing::AssertionFailure() << seen.str();
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
}

std::optional<milliseconds> age_seen_at_reclaim(const std::string& err) {
  const std::string before = " last refreshed ";
  const std::string after = "s ago, more than the ";
  const auto end = err.find(after);
  if (end == std::string::npos) {
    return std::nullopt;
  }
  const auto start = err.rfind(before, end);
  if (start == std::string::npos) {
    return std::nullopt;
  }
  // format_duration: "12.3" below a minute, which is all a test waits.
  const std::string seconds = err.substr(start + before.size(), end - start - before.size());
  if (seconds.empty() || seconds.find_first_not_of("0123456789.") != std::string::npos) {
    return std::nullopt;
  }
  return milliseconds(static_cast<long long>(std::stod(seconds) * 1000 + 0.5));
}

double to_ms(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

void report_measurement(const std::string& what, Clock::duration duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", to_ms(duration));
  std::printf("[ measured ] %s: %s ms\n", what.c_str(), text);
  std::fflush(stdout);
  ::testing::Test::RecordProperty(what, text);
}

} // namespace buildlock::test
