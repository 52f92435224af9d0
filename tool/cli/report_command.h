// `buildlock report FILE...`: what the locks cost the builds that traced them (run --trace,
// BUILDLOCK_TRACE), per lock and per build; a table for people, --json for machines.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace buildlock::cli {

struct ReportOptions {
  std::vector<std::string> files;
  bool json = false;
  std::string svg; // --svg FILE: also write the timeline there
};

void add_report_command(CLI::App& app, ReportOptions& options);

// Returns the exit status: 0, or 66 when a file cannot be read or is not a trace.
int report_command(const ReportOptions& options);

} // namespace buildlock::cli
