#include "log_check.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace buildlock::chaos {
namespace {

constexpr int violations_listed_per_kind = 10;

struct Section {
  std::string run; // "W R": the processes of one run's command tree may be inside together
  std::string who; // "worker W run R pid P"
  std::string role;
  long long enter_ns = 0;
  std::optional<long long> leave_ns;
  bool live_overlap = false;
};

struct Event {
  long long ns;
  bool is_leave; // leaves sort before enters at the same instant: intervals are half-open
  std::size_t section;
};

void add_violation(LogReport& report, int& count_of_kind, const std::string& text) {
  if (++count_of_kind <= violations_listed_per_kind) {
    report.violations.push_back(text);
  }
}

// The sections in the log, one per process, by "W R PID" (a run's command tree has several).
std::vector<Section> read_sections(const std::string& path, LogReport& report) {
  std::vector<Section> sections;
  std::map<std::string, std::size_t> by_run;
  std::ifstream log(path);
  std::string line;
  int& malformed = report.malformed;
  for (int number = 1; std::getline(log, line); ++number) {
    std::istringstream fields(line);
    std::string kind, worker, run, pid, role, verdict, extra;
    long long ns = 0;
    fields >> kind >> worker >> run >> pid >> role >> ns;
    const bool parsed = !fields.fail() && (kind == "enter" || kind == "leave");
    if (parsed && kind == "enter") {
      fields >> verdict;
    }
    const bool complete = parsed && !(fields >> extra) &&
                          (kind == "leave" || verdict == "ok" || verdict == "overlap");
    std::string run_key = worker;
    run_key.append(" ").append(run);
    std::string key = run_key;
    key.append(" ").append(pid);
    std::string where = "log line " + std::to_string(number);
    where.append(" `").append(line).append("`");
    if (!complete) {
      add_violation(report, malformed, "malformed " + where);
      continue;
    }
    if (kind == "enter") {
      if (by_run.contains(key)) {
        add_violation(report, malformed, "second enter of one process: " + where);
        continue;
      }
      by_run[key] = sections.size();
      std::string who = "worker " + worker;
      who.append(" run ").append(run).append(" pid ").append(pid);
      sections.push_back(
          {std::move(run_key), std::move(who), role, ns, std::nullopt, verdict == "overlap"});
      continue;
    }
    const auto entered = by_run.find(key);
    if (entered == by_run.end() || sections[entered->second].leave_ns ||
        sections[entered->second].enter_ns > ns) {
      add_violation(report, malformed, "leave without a matching enter: " + where);
      continue;
    }
    sections[entered->second].leave_ns = ns;
  }
  return sections;
}

} // namespace

LogReport check_log(const std::string& path, Variant variant, int slots) {
  LogReport report;
  const std::vector<Section> sections = read_sections(path, report);

  int live_listed = 0;
  std::vector<Event> events;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const Section& section = sections[i];
    ++report.entered;
    if (section.leave_ns) {
      ++report.left;
      events.push_back({*section.leave_ns, true, i});
    } else {
      ++report.cut_short;
    }
    events.push_back({section.enter_ns, false, i});
    if (section.live_overlap) {
      ++report.live_overlaps;
      add_violation(report, live_listed,
                    "overlap seen by the detector: " + section.who + " (" + section.role +
                        ") entered at " + std::to_string(section.enter_ns) +
                        " ns while the lock's limit was already reached");
    }
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.ns != b.ns ? a.ns < b.ns : a.is_leave > b.is_leave;
  });

  // Sweep: which runs, among the complete sections, are inside at each enter (a run is inside
  // while any process of its tree is).
  int interval_listed = 0;
  std::map<std::string, int> inside_by_run; // run -> its processes inside
  int inside = 0;                           // runs inside
  int writers_inside = 0;                   // exclusive runs inside
  for (const Event& event : events) {
    const Section& section = sections[event.section];
    const bool writer = section.role == "exclusive";
    int& own_inside = inside_by_run[section.run];
    if (event.is_leave) {
      if (--own_inside == 0) {
        --inside;
        writers_inside -= writer ? 1 : 0;
      }
      continue;
    }
    const int others = inside - (own_inside > 0 ? 1 : 0);
    const int other_writers = writers_inside - (own_inside > 0 && writer ? 1 : 0);
    bool broken = false;
    switch (variant) {
    case Variant::exclusive:
      broken = others > 0;
      break;
    case Variant::shared:
      broken = writer ? others > 0 : other_writers > 0;
      break;
    case Variant::slotted:
      broken = others >= slots;
      break;
    }
    if (broken) {
      ++report.interval_overlaps;
      add_violation(report, interval_listed,
                    "overlap in the log: " + section.who + " (" + section.role + ") entered at " +
                        std::to_string(section.enter_ns) + " ns while " + std::to_string(others) +
                        " other run(s) whose processes left normally were inside (" +
                        std::to_string(other_writers) + " exclusive)");
    }
    if (section.leave_ns && own_inside++ == 0) {
      ++inside;
      writers_inside += writer ? 1 : 0;
      report.max_inside = std::max(report.max_inside, inside);
    }
  }
  return report;
}

} // namespace buildlock::chaos
