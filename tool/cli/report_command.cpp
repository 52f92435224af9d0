#include "cli/report_command.h"

#include "cli/common_options.h"
#include "core/duration.h"
#include "core/messages.h"
#include "core/trace_summary.h"
#include "core/trace_timeline.h"
#include "os/whole_file.h"

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace buildlock::cli {
namespace {

using nlohmann::ordered_json;

// Waits of builds are milliseconds as often as minutes: milliseconds below a second.
std::string duration_text(std::int64_t us) {
  if (us < 1'000'000) {
    return std::to_string((us + 500) / 1000) + "ms";
  }
  return core::format_duration(core::Seconds(static_cast<double>(us) / 1e6));
}

std::string blocker_text(const core::TraceEvent::Blocker& blocker) {
  if (blocker.pid == 0) {
    return core::one_line(blocker.text);
  }
  return "pid " + std::to_string(blocker.pid) + " on `" + core::one_line(blocker.host) + "` (" +
         core::short_command(blocker.command) + ")";
}

// The holder a wait saw last (usually the one it took over from), and how many it saw before.
std::string behind_text(const core::TraceEvent& wait) {
  if (wait.behind.empty()) {
    return "nobody (uncontended)";
  }
  const std::size_t before = wait.behind.size() - 1;
  return blocker_text(wait.behind.back()) +
         (before != 0 ? " (and " + std::to_string(before) + " before)" : "");
}

// Commands listed per lock in the table; --json lists them all.
constexpr std::size_t commands_listed = 5;

void print_table(const core::TraceSummary& summary) {
  std::string out;
  for (const core::LockSummary& lock : summary.locks) {
    out += "lock `" + core::one_line(lock.lock) + "` in " + core::one_line(lock.store) + "\n";
    out += "  acquisitions " + std::to_string(lock.acquisitions) + ", timeouts " +
           std::to_string(lock.timeouts) + ", other errors " + std::to_string(lock.errors) +
           ", reclaims " + std::to_string(lock.reclaims.size()) + ", lost " +
           std::to_string(lock.lost) + "\n";
    out += "  waits: " + std::to_string(lock.waits.count) + ", total " +
           duration_text(lock.waits.total_us) + ", median " + duration_text(lock.waits.median_us) +
           ", p95 " + duration_text(lock.waits.p95_us) + ", max " +
           duration_text(lock.waits.max_us) + "\n";
    out += "  longest waits:\n";
    for (const core::TraceEvent* wait : lock.longest) {
      out += "    " + duration_text(wait->dur_us) + "  pid " + std::to_string(wait->run) + " on `" +
             core::one_line(wait->host) + "` (" + core::short_command(wait->command) + ")" +
             (wait->outcome == "acquired" ? "" : " [" + wait->outcome + "]") + ", behind " +
             behind_text(*wait) + "\n";
    }
    out += "  holds by command:\n";
    for (std::size_t i = 0; i < lock.holds.size() && i < commands_listed; ++i) {
      const core::CommandHolds& holds = lock.holds[i];
      out += "    " + std::to_string(holds.holds) + " x, total " + duration_text(holds.total_us) +
             ", max " + duration_text(holds.max_us) + "  " + core::short_command(holds.command) +
             "\n";
    }
    if (lock.holds.size() > commands_listed) {
      out += "    (" + std::to_string(lock.holds.size() - commands_listed) +
             " more commands with less time; --json lists every one)\n";
    }
    for (const std::string& reclaim : lock.reclaims) {
      out += "  reclaimed " + core::one_line(reclaim) + "\n";
    }
  }
  out += "builds:\n";
  for (const core::BuildSummary& build : summary.builds) {
    out += "  " + build.file + ": build " + std::to_string(build.build) + " on `" +
           core::one_line(build.host) + "`: " + std::to_string(build.runs) + " run(s) waited " +
           duration_text(build.waited_us) + " (longest " + duration_text(build.longest_wait_us) +
           ")\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

ordered_json blocker_json(const core::TraceEvent::Blocker& blocker) {
  ordered_json who = {{"text", blocker.text}};
  if (blocker.pid != 0) {
    who["pid"] = blocker.pid;
    who["host"] = blocker.host;
    who["command"] = blocker.command;
  }
  return who;
}

void print_json(const core::TraceSummary& summary) {
  ordered_json report = {{"version", 1}, {"locks", ordered_json::array()}};
  for (const core::LockSummary& lock : summary.locks) {
    ordered_json entry = {
        {"lock", lock.lock},         {"store", lock.store},   {"acquisitions", lock.acquisitions},
        {"timeouts", lock.timeouts}, {"errors", lock.errors}, {"lost", lock.lost},
        {"reclaims", lock.reclaims}};
    entry["wait"] = {{"count", lock.waits.count},
                     {"total_us", lock.waits.total_us},
                     {"median_us", lock.waits.median_us},
                     {"p95_us", lock.waits.p95_us},
                     {"max_us", lock.waits.max_us}};
    entry["longest_waits"] = ordered_json::array();
    for (const core::TraceEvent* wait : lock.longest) {
      ordered_json item = {{"wait_us", wait->dur_us},  {"ts_us", wait->ts_us},
                           {"run", wait->run},         {"build", wait->build},
                           {"host", wait->host},       {"command", wait->command},
                           {"outcome", wait->outcome}, {"behind", ordered_json::array()}};
      for (const core::TraceEvent::Blocker& blocker : wait->behind) {
        item["behind"].push_back(blocker_json(blocker));
      }
      entry["longest_waits"].push_back(std::move(item));
    }
    entry["holds_by_command"] = ordered_json::array();
    for (const core::CommandHolds& holds : lock.holds) {
      entry["holds_by_command"].push_back({{"command", holds.command},
                                           {"holds", holds.holds},
                                           {"total_us", holds.total_us},
                                           {"max_us", holds.max_us}});
    }
    report["locks"].push_back(std::move(entry));
  }
  report["builds"] = ordered_json::array();
  for (const core::BuildSummary& build : summary.builds) {
    report["builds"].push_back({{"file", build.file},
                                {"host", build.host},
                                {"build", build.build},
                                {"runs", build.runs},
                                {"waited_us", build.waited_us},
                                {"longest_wait_us", build.longest_wait_us}});
  }
  const std::string text =
      report.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
}

} // namespace

void add_report_command(CLI::App& app, ReportOptions& options) {
  CLI::App* report_app = app.add_subcommand(
      "report", "What locks cost the builds that traced them (run --trace, BUILDLOCK_TRACE): "
                "waits and holds per lock, waiting per build");
  report_app->add_flag("--json", options.json, "Print the figures as JSON (docs/cli.md)");
  report_app
      ->add_option("--svg", options.svg,
                   "Also write a timeline to FILE: an SVG with a lane per lock, holds as bars, "
                   "waits pointing at whom they waited behind, reclaims marked")
      ->type_name("FILE");
  report_app->add_option("FILE", options.files, "Trace files, merged")->required();
  report_app->footer(
      "Example: buildlock report build-trace.json\n"
      "Exit status: 0; 2 usage; 66 a FILE cannot be read or is not a trace; 71 the SVG "
      "cannot be written.");
}

int report_command(const ReportOptions& options) {
  const core::Messages messages;
  auto events = core::read_traces(options.files, messages);
  if (!events) {
    return report(events.error());
  }
  if (!options.svg.empty()) {
    if (auto written = os::write_whole_file(options.svg, core::timeline_svg(*events)); !written) {
      return report(written.error());
    }
  }
  const core::TraceSummary summary = core::summarize(*events, options.files);
  if (options.json) {
    print_json(summary);
  } else {
    print_table(summary);
  }
  return 0;
}

} // namespace buildlock::cli
