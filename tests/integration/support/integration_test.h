// IntegrationTest: the fixture every integration test starts from.
//
// Each test case gets its own TempDir with a lock directory path inside (not created: buildlock
// creates it like `mkdir -p`; make_lock_dir() creates it for tests that craft entries first),
// and builds buildlock command lines with an environment free of the developer's BUILDLOCK_*
// settings; in the no-kernel-lock pass every buildlock runs with kernel locks off
// (support/kernel_locks.h).
#pragma once

#include "support/binaries.h"
#include "support/kernel_locks.h"
#include "support/process.h"
#include "support/temp_dir.h"

#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::test {

// A `buildlock run` whose command says when it runs and ends when the test lets it go.
struct Holding {
  Pipe started; // the command writes one byte here (its fd 3) once it runs
  Pipe release; // the command ends when a byte arrives here (its fd 4), or when this closes
  std::optional<Process> process;

  void let_go() { release.write_byte(); }
  pid_t pid() const { return process->pid(); }
};

class IntegrationTest : public ::testing::Test {
protected:
  TempDir temp;
  // Where the locks are: a directory, or for the etcd tests an etcd:// location (EtcdTest).
  std::string lock_dir = temp / "locks";

  void make_lock_dir() const;
  // DIR/NAME.lock
  std::string lock_path(std::string_view name) const;

  // `buildlock ARGUMENTS...` (with BUILDLOCK_KERNEL_LOCKS=off in the no-kernel-lock pass)
  static Command buildlock(std::vector<std::string> arguments);
  // Any program, with the BUILDLOCK_* variables unset like buildlock() (for shells, loops, ...).
  static Command program(std::vector<std::string> argv);
  // `buildlock run --dir <lock_dir> OPTIONS... LOCK -- COMMAND...` (`run --dir <lock_dir>
  // --kernel-locks off OPTIONS...` in the no-kernel-lock pass)
  Command run_under_lock(const std::string& lock, std::vector<std::string> command,
                         std::vector<std::string> options = {}) const;
  // The argv of that command without the buildlock binary's path in front, for nesting.
  std::vector<std::string> run_arguments(const std::string& lock, std::vector<std::string> command,
                                         std::vector<std::string> options = {}) const;
  // While a run's command tree still runs, the lock `L` is held: a run with --timeout 0 gets
  // exit 75.
  void expect_lock_held() const;
  // Once a run has ended, `L` is free at once: nothing is left in the lock directory and the next
  // run gets the lock without reclaiming anything.
  void expect_lock_free_without_reclaim() const;
  // `scripted_command STEPS...` (see helpers/scripted_command.cpp).
  static std::vector<std::string> scripted(std::vector<std::string> steps);

  // Starts `buildlock run OPTIONS... LOCK -- scripted_command notify 3 wait 4 THEN...` and, when
  // `wait_until_running`, returns once the command runs (the test fails if it does not within
  // 10 s). Pass `configure` to change the Command before it starts (own process group, ...).
  std::unique_ptr<Holding> start_holding(const std::string& lock,
                                         std::vector<std::string> options = {},
                                         std::vector<std::string> then = {},
                                         const std::function<void(Command&)>& configure = nullptr,
                                         bool wait_until_running = true) const;
};

} // namespace buildlock::test
