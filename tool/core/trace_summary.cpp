#include "core/trace_summary.h"

#include "core/messages.h"
#include "core/shortened.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace buildlock::core {
namespace {

// Nearest rank: the value at rank ceil(p * n) of the sorted values (1-based).
std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, int percent) {
  if (sorted.empty()) {
    return 0;
  }
  const std::size_t rank = (sorted.size() * static_cast<std::size_t>(percent) + 99) / 100;
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

WaitFigures figures_of(std::vector<std::int64_t> durations) {
  std::sort(durations.begin(), durations.end());
  WaitFigures figures;
  figures.count = durations.size();
  for (std::int64_t duration : durations) {
    figures.total_us += duration;
  }
  figures.median_us = nearest_rank(durations, 50);
  figures.p95_us = nearest_rank(durations, 95);
  figures.max_us = durations.empty() ? 0 : durations.back();
  return figures;
}

} // namespace

std::string short_command(const std::string& command) {
  std::string text;
  std::size_t at = 0;
  while (at <= command.size()) {
    std::size_t end = command.find(' ', at);
    if (end == std::string::npos) {
      end = command.size();
    }
    std::string word = command.substr(at, end - at);
    if (const std::size_t slash = word.find_last_of('/');
        slash != std::string::npos && slash + 1 < word.size()) {
      word = word.substr(slash + 1);
    }
    text += (text.empty() ? "" : " ") + word;
    at = end + 1;
  }
  return one_line(shortened(text, longest_command_in_message));
}

TraceSummary summarize(const std::vector<TraceEvent>& events,
                       const std::vector<std::string>& paths) {
  std::vector<const TraceEvent*> ordered;
  ordered.reserve(events.size());
  for (const TraceEvent& event : events) {
    ordered.push_back(&event);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const TraceEvent* a, const TraceEvent* b) { return a->ts_us < b->ts_us; });

  std::map<std::pair<std::string, std::string>, LockSummary> locks;
  std::map<std::pair<std::string, std::string>, std::vector<std::int64_t>> durations;
  std::map<std::tuple<std::size_t, std::string, std::int64_t>, BuildSummary> builds;
  for (const TraceEvent* event : ordered) {
    const auto key = std::make_pair(event->lock, event->store);
    LockSummary& lock = locks[key];
    lock.lock = event->lock;
    lock.store = event->store;
    switch (event->kind) {
    case TraceEvent::Kind::wait: {
      durations[key].push_back(event->dur_us);
      if (event->outcome == "acquired") {
        ++lock.acquisitions;
      } else if (event->outcome == "timeout") {
        ++lock.timeouts;
      } else {
        ++lock.errors;
      }
      lock.longest.push_back(event);
      lock.reclaims.insert(lock.reclaims.end(), event->reclaimed.begin(), event->reclaimed.end());
      BuildSummary& build = builds[{event->file, event->host, event->build}];
      build.file = paths.at(event->file);
      build.host = event->host;
      build.build = event->build;
      ++build.runs;
      build.waited_us += event->dur_us;
      build.longest_wait_us = std::max(build.longest_wait_us, event->dur_us);
      break;
    }
    case TraceEvent::Kind::hold: {
      auto found = std::find_if(lock.holds.begin(), lock.holds.end(),
                                [&](const CommandHolds& c) { return c.command == event->command; });
      if (found == lock.holds.end()) {
        lock.holds.push_back(CommandHolds{event->command, 0, 0, 0});
        found = lock.holds.end() - 1;
      }
      ++found->holds;
      found->total_us += event->dur_us;
      found->max_us = std::max(found->max_us, event->dur_us);
      break;
    }
    case TraceEvent::Kind::lost:
      ++lock.lost;
      break;
    }
  }

  TraceSummary summary;
  for (auto& [key, lock] : locks) {
    lock.waits = figures_of(durations[key]);
    // Longest first; equal waits in time order (stable on the time-ordered list).
    std::stable_sort(
        lock.longest.begin(), lock.longest.end(),
        [](const TraceEvent* a, const TraceEvent* b) { return a->dur_us > b->dur_us; });
    if (lock.longest.size() > longest_waits_listed) {
      lock.longest.resize(longest_waits_listed);
    }
    std::stable_sort(
        lock.holds.begin(), lock.holds.end(),
        [](const CommandHolds& a, const CommandHolds& b) { return a.total_us > b.total_us; });
    summary.locks.push_back(std::move(lock));
  }
  std::stable_sort(summary.locks.begin(), summary.locks.end(),
                   [](const LockSummary& a, const LockSummary& b) {
                     return a.waits.total_us > b.waits.total_us;
                   });
  for (auto& [key, build] : builds) {
    summary.builds.push_back(std::move(build));
  }
  std::stable_sort(
      summary.builds.begin(), summary.builds.end(),
      [](const BuildSummary& a, const BuildSummary& b) { return a.waited_us > b.waited_us; });
  return summary;
}

} // namespace buildlock::core
