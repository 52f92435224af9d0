#include "leftovers.h"

#include "kernel_view.h"
#include "processes.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace buildlock::chaos {
namespace {

using namespace std::chrono_literals;

struct Output {
  std::optional<int> status; // nullopt: killed at the deadline
  std::string out;
  std::string err;
};

std::string read_whole(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// `buildlock ARGUMENTS... --dir LOCK_DIR`, its output kept in the arena as TAG.out / TAG.err.
Output run_buildlock(const Options& options, const Arena& arena, const std::string& tag,
                     std::vector<std::string> arguments) {
  SpawnRequest request;
  request.argv = {options.buildlock};
  request.argv.insert(request.argv.end(), arguments.begin(), arguments.end());
  request.argv.insert(request.argv.end(), {"--dir", arena.lock_dir});
  request.stdout_path = arena.folder + "/" + tag + ".out";
  request.stderr_path = arena.folder + "/" + tag + ".err";
  std::filesystem::remove(request.stdout_path);
  std::filesystem::remove(request.stderr_path);
  Output output;
  output.status = run_to_end(request, std::chrono::steady_clock::now() + 30s);
  output.out = read_whole(request.stdout_path);
  output.err = read_whole(request.stderr_path);
  return output;
}

// --stale-after as the workers' runs had it.
std::vector<std::string> with_runs_stale_after(const Options& options,
                                               std::vector<std::string> arguments) {
  if (options.stale_after_s) {
    arguments.insert(arguments.end(), {"--stale-after", std::to_string(*options.stale_after_s)});
  }
  return arguments;
}

// The array of objects printed by `status --json` / `clean --json`, or a violation.
std::optional<nlohmann::json> json_array(const Output& output, const std::string& what,
                                         LeftoversReport& report) {
  if (!output.status || *output.status != 0) {
    report.violations.push_back(what + " ended with " +
                                (output.status ? describe_status(*output.status)
                                               : std::string("a hang (killed after 30 s)")) +
                                ": " + output.err);
    return std::nullopt;
  }
  try {
    nlohmann::json array = nlohmann::json::parse(output.out);
    if (array.is_array()) {
      return array;
    }
  } catch (const nlohmann::json::exception&) {
  }
  report.violations.push_back(what + " printed no JSON array: " + output.out);
  return std::nullopt;
}

std::string text_of(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

bool is_etcd(const std::string& location) {
  return location.rfind("etcd://", 0) == 0;
}

// For a lock "directory" in etcd (etcd://HOST:PORT/PREFIX): every key left under the prefix,
// listed by etcdctl, which knows nothing of buildlock and so sees what buildlock might overlook.
// Leases of killed holders run out only after their TTL, but `clean` revokes the stale ones, so
// nothing may be left.
void check_etcd_is_empty(const Arena& arena, LeftoversReport& report) {
  const std::string rest = arena.lock_dir.substr(std::string("etcd://").size());
  const auto slash = rest.find('/');
  const std::string endpoints = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "/" : rest.substr(slash);
  if (prefix.back() != '/') {
    prefix += '/';
  }
  SpawnRequest request;
  request.argv = {"etcdctl",     "--endpoints", "http://" + endpoints, "get", "--prefix",
                  "--keys-only", prefix};
  request.stdout_path = arena.folder + "/etcd-keys.out";
  request.stderr_path = arena.folder + "/etcd-keys.err";
  std::optional<int> status;
  try {
    status = run_to_end(request, std::chrono::steady_clock::now() + 30s);
  } catch (const ChaosError& error) {
    report.violations.push_back("cannot list what is left in etcd under " + prefix + ": " +
                                error.what() + " (etcdctl is needed to check it)");
    return;
  }
  if (!status || *status != 0) {
    report.violations.push_back("`etcdctl get --prefix " + prefix +
                                "` failed: " + read_whole(request.stderr_path));
    return;
  }
  std::istringstream keys(read_whole(request.stdout_path));
  int left = 0;
  for (std::string key; std::getline(keys, key);) {
    if (!key.empty()) {
      ++left;
      report.violations.push_back("still in etcd after `buildlock clean`: " + key);
    }
  }
  report.etcd_keys_checked = true;
  report.etcd_keys_left = left;
}

} // namespace

LeftoversReport check_leftovers(const Options& options, const Arena& arena) {
  LeftoversReport report;
  if (auto locks = json_array(run_buildlock(options, arena, "status",
                                            with_runs_stale_after(options, {"status", "--json"})),
                              "`buildlock status --json`", report)) {
    for (const nlohmann::json& lock : *locks) {
      const std::string state = text_of(lock.value("state", nlohmann::json()));
      ++report.status_states[state + " (" + text_of(lock.value("reason", nlohmann::json())) + ")"];
      if (state != "stale" && state != "free") {
        report.violations.push_back("left in the lock directory, neither free nor reclaimable: " +
                                    lock.dump());
      }
    }
  }
  if (auto removed = json_array(run_buildlock(options, arena, "clean",
                                              with_runs_stale_after(options, {"clean", "--json"})),
                                "`buildlock clean --json`", report)) {
    for (const nlohmann::json& entry : *removed) {
      ++report.cleaned[text_of(entry.value("kind", nlohmann::json()))];
      if (text_of(entry.value("action", nlohmann::json())) != "removed") {
        report.violations.push_back("`buildlock clean` did not remove: " + entry.dump());
      }
    }
  }
  // The shortest --stale-after buildlock accepts (docs/cli.md): every worker has ended, so what
  // is left only needs to be that old to be judged by its age.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  if (auto aged = json_array(
          run_buildlock(options, arena, "clean-aged", {"clean", "--stale-after", "0.2", "--json"}),
          "`buildlock clean --stale-after 0.2 --json`", report)) {
    // Locks whose abandoned claim this clean removed. A reclaimer killed between its `link` and
    // its `unlink` (docs/protocol.md, "Reclaim", steps 1 to 3) leaves its claim beside the stale
    // file it judged: every later reclaimer, `clean` included, finds the claim taken and leaves
    // the file alone until the claim is old enough to be called abandoned. So the first `clean`
    // above could not remove that file, and this one removes the claim and then the file. Both
    // are legitimate, and nothing else is: the file must be stale, judged by its own rule.
    std::set<std::string> claimed;
    for (const nlohmann::json& entry : *aged) {
      if (text_of(entry.value("reason", nlohmann::json())) == "claim-abandoned" &&
          text_of(entry.value("kind", nlohmann::json())) == "temp" &&
          text_of(entry.value("action", nlohmann::json())) == "removed") {
        claimed.insert(text_of(entry.value("name", nlohmann::json())));
      }
    }
    for (const nlohmann::json& entry : *aged) {
      const std::string reason = text_of(entry.value("reason", nlohmann::json()));
      const std::string kind = text_of(entry.value("kind", nlohmann::json()));
      const bool removed = text_of(entry.value("action", nlohmann::json())) == "removed";
      // Only the age rule can remove these: a temporary file its writer was killed before
      // filling, and a claim its reclaimer was killed holding (docs/protocol.md, "Reclaim").
      const bool age_only_debris =
          kind == "temp" && (reason == "no-metadata-expired" || reason == "claim-abandoned");
      const bool behind_abandoned_claim =
          !age_only_debris && text_of(entry.value("state", nlohmann::json())) == "stale" &&
          claimed.contains(text_of(entry.value("name", nlohmann::json())));
      ++report
            .aged_out[behind_abandoned_claim ? kind + " behind an abandoned claim (" + reason + ")"
                                             : reason];
      if (!removed || !(age_only_debris || behind_abandoned_claim)) {
        report.violations.push_back("left after `buildlock clean`, other than a temporary file "
                                    "without metadata, an abandoned claim or the stale file it "
                                    "held: " +
                                    entry.dump());
      }
    }
  }
  if (is_etcd(arena.lock_dir)) {
    check_etcd_is_empty(arena, report);
    return report;
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(arena.lock_dir, error)) {
    report.violations.push_back("still in the lock directory after `buildlock clean`: " +
                                entry.path().filename().string());
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    report.violations.push_back("cannot list the lock directory after `buildlock clean`: " +
                                error.message());
  }
  return report;
}

std::string describe_lock_directory(const Options& options, const Arena& arena) {
  static std::atomic<int> snapshots = 0;
  const Output status = run_buildlock(options, arena, "snapshot-" + std::to_string(++snapshots),
                                      with_runs_stale_after(options, {"status"}));
  std::string text = status.out + status.err;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(arena.lock_dir, error)) {
    text += "  " + entry.path().filename().string() + "\n";
  }
  return text + describe_kernel_view(arena.lock_dir);
}

} // namespace buildlock::chaos
