#include "log_check.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <set>
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
  long long counted = 0; // other runs its detector counted inside
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
    long long counted = -1;
    fields >> kind >> worker >> run >> pid >> role >> ns;
    bool parsed = !fields.fail() && (kind == "enter" || kind == "leave");
    if (parsed && kind == "enter") {
      fields >> verdict >> counted;
      parsed = !fields.fail() && counted >= 0;
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
      sections.push_back({std::move(run_key), std::move(who), role, ns, std::nullopt,
                          verdict == "overlap", counted});
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

// Sections without a `leave`, by "worker run pid".
std::set<std::string> open_sections(const std::vector<Section>& sections) {
  std::set<std::string> open;
  for (const Section& section : sections) {
    if (!section.leave_ns) {
      open.insert(section.who);
    }
  }
  return open;
}

} // namespace

LiveSections count_live_sections(const std::string& path) {
  LogReport ignored;
  const std::vector<Section> before = read_sections(path, ignored);
  // Gone first, then still without `leave`: a process that is gone logs nothing more. A pid
  // reused meanwhile looks alive, so the section is not counted: the count errs low, never high.
  std::vector<std::string> gone;
  for (const Section& section : before) {
    const auto pid_at = section.who.rfind(' ');
    if (!section.leave_ns &&
        ::kill(static_cast<pid_t>(std::stol(section.who.substr(pid_at + 1))), 0) != 0 &&
        errno == ESRCH) {
      gone.push_back(section.who);
    }
  }
  const std::set<std::string> still_open = open_sections(read_sections(path, ignored));
  LiveSections live;
  live.entered = static_cast<int>(before.size());
  for (const std::string& who : gone) {
    live.cut_short += still_open.contains(who) ? 1 : 0;
  }
  return live;
}

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
  int undercount_listed = 0;
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
    // What the detector must have counted: every other run in the files its role checks (all runs
    // for an exclusive run or a slot, the writers for a reader) that the log proves inside.
    const int proven = variant == Variant::shared && !writer ? other_writers : others;
    if (section.counted < proven) {
      ++report.undercounts;
      add_violation(report, undercount_listed,
                    "detector undercount: " + section.who + " (" + section.role + ") counted " +
                        std::to_string(section.counted) + " other run(s) inside at " +
                        std::to_string(section.enter_ns) + " ns, the log proves " +
                        std::to_string(proven));
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
