// IntegrationTest: the fixture every integration test starts from.
//
// Each test case gets its own TempDir with a lock directory path inside (not created: buildlock
// creates it like `mkdir -p`; make_lock_dir() creates it for tests that craft entries first),
// and builds buildlock command lines with an environment free of the developer's BUILDLOCK_*
// settings.
#pragma once

#include "support/binaries.h"
#include "support/process.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::test {

class IntegrationTest : public ::testing::Test {
protected:
  TempDir temp;
  const std::string lock_dir = temp / "locks";

  void make_lock_dir() const;
  // DIR/NAME.lock
  std::string lock_path(std::string_view name) const;

  // `buildlock ARGUMENTS...`
  static Command buildlock(std::vector<std::string> arguments);
  // `buildlock run --dir <lock_dir> OPTIONS... LOCK -- COMMAND...`
  Command run_under_lock(const std::string& lock, std::vector<std::string> command,
                         std::vector<std::string> options = {}) const;
  // The argv of that command without the buildlock binary's path in front, for nesting.
  std::vector<std::string> run_arguments(const std::string& lock, std::vector<std::string> command,
                                         std::vector<std::string> options = {}) const;
  // `scripted_command STEPS...` (see helpers/scripted_command.cpp).
  static std::vector<std::string> scripted(std::vector<std::string> steps);
};

} // namespace buildlock::test
