// Many contenders for one lock (issue 2, scenario 14): 8 processes x 200 acquisitions, each
// running a critical section that detects overlap with an O_EXCL marker file. Overlaps are
// counted from the log, not guessed from timing.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace buildlock::test {
namespace {

class RunContention : public IntegrationTest {
protected:
  void SetUp() override { ASSERT_EQ(::mkdir(work_dir.c_str(), 0755), 0); }

  const std::string work_dir = temp / "work";
  const std::string log = temp / "entries.log";
};

// The detector itself: with someone inside, an overlap is logged (so the zero below is a real
// zero).
TEST_F(RunContention, CriticalSectionReportsAnOverlapWhenSomeoneIsInside) {
  write_file(work_dir + "/inside", "");
  Finished finished = run(program({critical_section_binary(), work_dir, log}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(read_file(log).find(" overlap\n") != std::string::npos, true) << read_file(log);
  EXPECT_TRUE(exists_no_follow(work_dir + "/inside")) << "it removed a marker it did not create";
}

TEST_F(RunContention, EightProcessesTimesTwoHundredAcquisitionsNeverOverlap) {
  constexpr int contenders = 8;
  constexpr int rounds = 200;
  // Each contender runs `buildlock run` `rounds` times in a row, stopping at the first failure.
  std::vector<std::string> argv = {
      "sh", "-c", R"(i=0; while [ "$i" -lt "$0" ]; do "$@" || exit $?; i=$((i+1)); done)",
      std::to_string(rounds), buildlock_binary()};
  for (auto& word : run_arguments("L", {critical_section_binary(), work_dir, log}, {"--quiet"})) {
    argv.push_back(std::move(word));
  }

  const auto started_at = Clock::now();
  std::vector<Process> processes;
  processes.reserve(contenders);
  for (int i = 0; i < contenders; ++i) {
    processes.push_back(program(argv).start());
  }
  for (Process& process : processes) {
    EXPECT_EQ(process.wait(workload_bound(150s)), ExitStatus::exited(0)) << process.stderr_text();
  }
  report_measurement("8 x 200 acquisitions", Clock::now() - started_at);

  const std::string entries = read_file(log);
  EXPECT_EQ(lines_of(entries).size(), static_cast<std::size_t>(contenders * rounds));
  EXPECT_EQ(count_occurrences(entries, " alone\n"), static_cast<std::size_t>(contenders * rounds));
  EXPECT_EQ(count_occurrences(entries, " overlap\n"), 0u) << "holders overlapped";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers in the lock dir";
  EXPECT_EQ(directory_entries(work_dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test
