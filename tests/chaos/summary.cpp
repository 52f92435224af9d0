#include "summary.h"

#include "processes.h"

#include <csignal>
#include <iomanip>
#include <sstream>

namespace buildlock::chaos {
namespace {

template <typename Map> std::string listing(const Map& counts) {
  std::ostringstream text;
  const char* separator = "";
  for (const auto& [what, count] : counts) {
    text << separator << what << " " << count;
    separator = ", ";
  }
  return counts.empty() ? "none" : text.str();
}

std::string kills_text(const KillReport& kills) {
  std::ostringstream text;
  int total = 0;
  for (int signal : {SIGKILL, SIGINT, SIGTERM, SIGSTOP}) {
    text << "\n    " << std::left << std::setw(8) << signal_name(signal);
    for (Target target : all_targets) {
      const auto found = kills.delivered.find({signal, target});
      const int count = found == kills.delivered.end() ? 0 : found->second;
      total += count;
      text << "  " << to_string(target) << " " << std::setw(5) << count;
    }
  }
  return std::to_string(total) + " delivered (" + std::to_string(kills.resumed) +
         " stopped processes resumed with SIGCONT, " + std::to_string(kills.missed) +
         " looks found no target yet and waited; " +
         std::to_string(kills.command_group_was_wrappers) +
         " command-group signals found the command in buildlock's own group)" + text.str();
}

int total(const std::map<std::string, int>& counts) {
  int sum = 0;
  for (const auto& entry : counts) {
    sum += entry.second;
  }
  return sum;
}

} // namespace

void print_summary(std::ostream& out, const Options& options, const VariantResult& result) {
  const double seconds = std::chrono::duration<double>(result.elapsed).count();
  out << "chaos " << to_string(result.variant) << ", kernel locks "
      << to_string(result.kernel_locks) << ": seed " << result.seed << ", " << options.workers
      << " workers x ";
  if (options.duration_s) {
    out << *options.duration_s << " s";
  } else {
    out << options.runs_per_worker << " runs";
  }
  out << " (command trees: shell, child, grandchild in its own session; "
      << options.ignore_term_percent << "% ignore SIGTERM and SIGINT)";
  out << ", a signal every ~" << options.kill_interval_ms << " ms, stops up to "
      << options.max_stop_ms << " ms, holds up to " << options.max_hold_us << " us";
  if (result.variant == Variant::slotted) {
    out << ", --slots " << options.slots;
  }
  if (result.variant == Variant::shared) {
    out << ", " << options.writer_percent << "% writers";
  }
  if (options.sabotage) {
    out << ", SABOTAGED (a lock per worker)";
  }
  out << "\n";
  out << std::fixed << std::setprecision(1);
  out << "  time              " << seconds << " s\n";
  out << "  runs              " << result.runs << ": " << listing(result.endings) << "\n";
  if (!result.refusals.empty()) {
    out << "  refused (exit 65) " << total(result.refusals) << ": " << listing(result.refusals)
        << "\n";
  }
  out << "  critical sections " << result.log.entered << " entered (one per process), "
      << result.log.left << " left normally, " << result.log.cut_short
      << " cut short by a signal; at most " << result.log.max_inside
      << " runs inside at once (among those that left normally)\n";
  out << "  signals           " << kills_text(result.kills) << "\n";
  out << "  reclaims          " << total(result.messages.reclaims)
      << " `reclaimed stale` notices: " << listing(result.messages.reclaims) << "\n";
  out << "  other notices     waiting " << result.messages.waiting_notices;
  if (!result.messages.other_notices.empty()) {
    out << ", " << listing(result.messages.other_notices);
  }
  out << "\n";
  if (result.all_processes_ended) {
    out << "  at the end        status: " << listing(result.leftovers.status_states)
        << "; clean removed: " << listing(result.leftovers.cleaned) << "; then "
        << "removed by the age rule alone (--stale-after 0.2): "
        << listing(result.leftovers.aged_out);
    if (result.leftovers.etcd_keys_checked) {
      out << "; keys left in etcd (etcdctl): " << result.leftovers.etcd_keys_left;
    }
    out << "\n";
  }
  out << "  violations        " << result.violation_count() << " (overlaps seen by the detectors "
      << result.log.live_overlaps << ", in the log " << result.log.interval_overlaps
      << "; detector undercounts " << result.log.undercounts << "; too little activity "
      << result.activity_violations.size() << ")\n";
  for (const std::string& violation : result.violations()) {
    out << "    - " << violation << "\n";
  }
  if (result.violation_count() > 0) {
    out << "  kept for analysis: " << result.folder << "\n";
  }
  out.flush();
}

std::string summary_listing(const std::map<std::string, int>& counts) {
  return listing(counts);
}

} // namespace buildlock::chaos
