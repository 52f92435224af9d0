#include "support/waiting.h"

#include "support/process.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/syscall.h>
#include <thread>

namespace buildlock::test {

::testing::AssertionResult
file_eventually_contains(const std::string& path, const std::string& needle, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const std::string text = read_file(path);
    if (text.find(needle) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "`" << path << "` lacks \"" << needle << "\" after "
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
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string number, arrow, kind, advisory, mode;
    pid_t holder = 0;
    if (fields >> number >> arrow >> kind >> advisory >> mode >> holder && arrow == "->" &&
        kind == "FLOCK" && holder == pid) {
      blocked.push_back(line);
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

} // namespace

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
