// What the wrappers said on stderr: reclaim notices (counted by reason code), and anything that
// should never appear in a correct run (an error or warning from buildlock, a failure of
// chaos_holder, a sanitizer report).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace buildlock::chaos {

struct MessagesReport {
  std::map<std::string, int> reclaims; // reason code ("holder-dead", ...) -> notices
  int waiting_notices = 0;             // "waiting for lock ..." (a wait longer than 1 s)
  // other `buildlock: ` lines, by their first words, and the shell's reports of a child killed
  // by a signal ("shell: Killed", "shell: Terminated", and the kernel's SIGHUP to an orphaned
  // process group with a stopped member, "shell: Hangup (orphaned process group)")
  std::map<std::string, int> other_notices;
  int unexpected = 0;                  // lines that should never appear: each one a violation
  std::vector<std::string> violations; // the first few of them
};

MessagesReport scan_wrapper_messages(const std::vector<std::string>& stderr_paths);

// While the chaos runs: the `reclaimed stale` notices so far (lines are only ever added).
int count_reclaim_notices(const std::vector<std::string>& stderr_paths);

} // namespace buildlock::chaos
