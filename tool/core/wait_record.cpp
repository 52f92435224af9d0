#include "core/wait_record.h"

#include <algorithm>

namespace buildlock::core {
namespace {

// The notice's text without its age (", held for 3.2s"), which changes at every look and would
// make one holder look like many.
std::string without_age(const std::string& whom) {
  const std::size_t age = whom.find(", held for ");
  if (age == std::string::npos) {
    return whom;
  }
  const std::size_t age_end = whom.find(' ', age + 11);
  return whom.substr(0, age) + (age_end == std::string::npos ? "" : whom.substr(age_end));
}

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) {
    text += (text.empty() ? "" : " ") + word;
  }
  return text;
}

} // namespace

void WaitRecord::saw_holder(const std::string& whom, const LockMetadata* holder) {
  Blocker blocker;
  blocker.text = without_age(whom);
  if (holder != nullptr) {
    blocker.pid = holder->pid;
    blocker.host = holder->host;
    blocker.command = joined(holder->command);
  }
  const auto same = [&](const Blocker& seen) {
    return blocker.pid != 0 ? seen.pid == blocker.pid && seen.host == blocker.host
                            : seen.pid == 0 && seen.text == blocker.text;
  };
  if (std::none_of(behind.begin(), behind.end(), same) && behind.size() < max_blockers) {
    behind.push_back(std::move(blocker));
  }
}

void WaitRecord::reclaimed(const std::string& what) {
  if (reclaims.size() < max_reclaims) {
    reclaims.push_back(what);
  }
}

} // namespace buildlock::core
