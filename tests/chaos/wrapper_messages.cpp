#include "wrapper_messages.h"

#include <algorithm>
#include <fstream>
#include <string_view>

namespace buildlock::chaos {
namespace {

constexpr int violations_listed = 20;

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.rfind(prefix, 0) == 0;
}

// "[holder-dead]" at the end of a reclaim notice.
std::string reason_code(const std::string& line) {
  const auto open = line.rfind('[');
  const auto close = line.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return "?";
  }
  return line.substr(open + 1, close - open - 1);
}

constexpr std::string_view reclaim_prefix = "buildlock: reclaimed stale ";

// What was reclaimed: "lock" (`reclaimed stale lock `x``), "shared hold" (`... shared hold of lock
// `x``), "slot" (`... slot 2 of lock `x``), ...
std::string reclaimed_what(const std::string& line) {
  const std::string rest = line.substr(reclaim_prefix.size());
  std::string what = rest.substr(0, std::min(rest.find(" of lock "), rest.find(" `")));
  if (starts_with(what, "slot ")) {
    what = "slot";
  }
  return what;
}

// The first three words: enough to tell notices apart without their pids and names.
std::string first_words(const std::string& line) {
  std::size_t end = 0;
  for (int words = 0; words < 3 && end != std::string::npos; ++words) {
    end = line.find(' ', end + 1);
  }
  return line.substr(0, end);
}

} // namespace

MessagesReport scan_wrapper_messages(const std::vector<std::string>& stderr_paths) {
  MessagesReport report;
  for (const std::string& path : stderr_paths) {
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line)) {
      if (starts_with(line, reclaim_prefix)) {
        ++report.reclaims[reclaimed_what(line) + " " + reason_code(line)];
      } else if (starts_with(line, "buildlock: waiting for lock ")) {
        ++report.waiting_notices;
      } else if (line == "Killed" || line == "Terminated" || line == "Interrupt") {
        // The command's shell reporting that its child died of a signal the killer sent.
        ++report.other_notices["shell: " + line];
      } else if (line == "Hangup") {
        // Not a signal the killer sends, but one the kernel does: a process group left without a
        // parent in another group of its session (buildlock, the command group's only link, was
        // killed) while one of its members is stopped is an orphaned process group, and the
        // kernel sends it SIGHUP and then SIGCONT (POSIX, "orphaned process group"; Linux
        // kill_orphaned_pgrp), so that it is not left stopped for good. The stopped child dies of
        // SIGHUP and the shell reports it (dash prints `Hangup`, then exits 129 to no one: its
        // buildlock is gone). Legitimate, and harmless: the command was buildlock's, and a
        // command whose buildlock is gone is what the chaos kills anyway.
        ++report.other_notices["shell: Hangup (orphaned process group)"];
      } else if (starts_with(line, "buildlock: ") && !starts_with(line, "buildlock: error: ") &&
                 !starts_with(line, "buildlock: warning: ")) {
        ++report.other_notices[first_words(line)];
      } else if (++report.unexpected <= violations_listed) {
        report.violations.push_back("unexpected message in " + path + ": ");
        report.violations.back().append(line);
      }
    }
  }
  return report;
}

int count_reclaim_notices(const std::vector<std::string>& stderr_paths) {
  int count = 0;
  for (const std::string& path : stderr_paths) {
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line)) {
      count += starts_with(line, reclaim_prefix) ? 1 : 0;
    }
  }
  return count;
}

} // namespace buildlock::chaos
