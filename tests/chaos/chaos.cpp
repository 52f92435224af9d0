// buildlock_chaos: the chaos test of issue 8 (docs/robustness.md, "Chaos test").
//
// W workers run `buildlock run LOCK -- sh -c ... chaos_holder ...` (a tree: a shell, its child
// inside the critical section, and that child's child in a session of its own, inside too) in a
// loop while a killer sends SIGKILL, SIGINT, SIGTERM and SIGSTOP/SIGCONT to random wrappers, main
// processes, grandchildren and process groups. Then it checks that the lock never admitted too many
// holders, that every run and every orphaned command ended in bounded time, that the wrappers
// printed nothing unexpected, that the lock directory holds only reclaimable entries, and that
// enough happened for all this to mean something. Prints a summary per variant (lock mode x
// kernel-lock setting); exit 1 on any violation.
#include "options.h"
#include "processes.h"
#include "summary.h"
#include "variant_run.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sys/utsname.h>
#include <unistd.h>

namespace {

std::string first_line_of(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

// Where the numbers come from: they depend on the machine and on what else runs on it.
std::string machine_line() {
  utsname system{};
  ::uname(&system);
  return std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " CPUs, " + system.sysname + " " +
         system.release + ", load average " + first_line_of("/proc/loadavg");
}

} // namespace

int main(int argc, char** argv) {
  using namespace buildlock::chaos;
  const Options options = parse_options(argc, argv);
  // The developer's settings must not change what buildlock does here.
  for (const char* variable :
       {"BUILDLOCK_HELD", "BUILDLOCK_DIR", "BUILDLOCK_TIMEOUT", "BUILDLOCK_STALE_AFTER"}) {
    ::unsetenv(variable);
  }
  const std::uint64_t seed = options.seed ? *options.seed : std::random_device{}();
  try {
    std::filesystem::remove_all(options.work_dir);
    std::filesystem::create_directories(options.work_dir);
    std::cout << "machine: " << machine_line() << "\n";
    int violations = 0;
    bool every_sabotage_seen = true;
    std::vector<std::string> failed;
    for (KernelLocks kernel_locks : options.kernel_locks) {
      for (Variant variant : options.variants) {
        const VariantResult result = run_variant(options, variant, kernel_locks, seed);
        print_summary(std::cout, options, result);
        violations += result.violation_count();
        if (result.violation_count() > 0) {
          failed.push_back(to_string(variant) + " with kernel locks " + to_string(kernel_locks));
        }
        every_sabotage_seen =
            every_sabotage_seen && result.log.live_overlaps > 0 && result.log.interval_overlaps > 0;
      }
    }
    std::cout << "machine at the end: load average " << first_line_of("/proc/loadavg") << "\n";
    if (options.sabotage) {
      std::cout << "buildlock_chaos: sabotage "
                << (every_sabotage_seen ? "detected by both overlap checks in every variant"
                                        : "NOT detected: an overlap check is blind")
                << "\n";
      return every_sabotage_seen ? 0 : 1;
    }
    if (violations > 0) {
      std::cout << "buildlock_chaos: " << violations << " violation(s) in";
      for (const std::string& variant : failed) {
        std::cout << " [" << variant << "]";
      }
      std::cout << "; replay the choices with --seed " << seed << "\n";
      return 1;
    }
    if (!options.keep) {
      std::filesystem::remove_all(options.work_dir);
    }
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "buildlock_chaos: error: " << error.what() << "\n";
    return 3;
  }
}
