// --kernel-locks auto|on|off and $BUILDLOCK_KERNEL_LOCKS (issue 6): how they are parsed, what each
// does to a hold, and what buildlock does where flock(2) fails.
//
// A filesystem without kernel locks (NFS without a lock daemon, some FUSE filesystems) cannot be
// mounted by a test here, so helpers/without_flock makes flock fail with that filesystem's errno
// at the system call (a seccomp filter) and runs buildlock under it; everything else is the real
// filesystem.
#include "shared_fs_test_support.h"
#include "support/waiting.h"

#include <cerrno>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

const std::string without_flock_binary = WITHOUT_FLOCK_BINARY;

// Whether this process can take the kernel lock of `path` (exclusive, without waiting).
bool kernel_lock_is_free(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return false;
  }
  const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return free;
}

::testing::AssertionResult is_one_line(const std::string& text, const std::string& expected) {
  if (text == expected + "\n") {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected exactly one line `" << expected << "`, got:\n"
                                       << text;
}

class SharedFsKernelLocks : public IntegrationTest {
protected:
  // `buildlock ARGS...` with flock failing with `error`.
  Command buildlock_without_flock(const std::string& error,
                                  std::vector<std::string> arguments) const {
    arguments.insert(arguments.begin(), {without_flock_binary, error, buildlock_binary()});
    return program(std::move(arguments));
  }
  Command run_without_flock(const std::string& error, std::vector<std::string> command,
                            std::vector<std::string> options) const {
    return buildlock_without_flock(error,
                                   run_arguments("L", std::move(command), std::move(options)));
  }
};

// Parsing.

struct BadValue {
  std::string name;
  std::string subcommand;
  std::vector<std::string> arguments; // after `SUBCOMMAND --dir DIR`
};

void PrintTo(const BadValue& bad, std::ostream* out) {
  *out << bad.name;
}

class SharedFsKernelLocksBadValue : public SharedFsKernelLocks,
                                    public ::testing::WithParamInterface<BadValue> {
protected:
  Command with_arguments() const {
    std::vector<std::string> arguments = {GetParam().subcommand, "--dir", lock_dir};
    arguments.insert(arguments.end(), GetParam().arguments.begin(), GetParam().arguments.end());
    return buildlock(arguments);
  }
};

TEST_P(SharedFsKernelLocksBadValue, OptionIsAUsageErrorOfOneLine) {
  std::vector<std::string> arguments = {GetParam().subcommand, "--dir", lock_dir, "--kernel-locks",
                                        "of\nf"};
  arguments.insert(arguments.end(), GetParam().arguments.begin(), GetParam().arguments.end());
  Finished finished = run(buildlock(arguments));
  EXPECT_EQ(finished.status, ExitStatus::exited(2));
  EXPECT_TRUE(is_one_line(finished.err,
                          "buildlock: error: --kernel-locks must be auto, on or off, not `of?f`"));
  EXPECT_FALSE(exists_no_follow(lock_dir)) << "a refused command touched the lock directory";
}

TEST_P(SharedFsKernelLocksBadValue, EnvironmentVariableIsAUsageErrorOfOneLine) {
  Command command = with_arguments();
  command.env("BUILDLOCK_KERNEL_LOCKS", "sometimes");
  Finished finished = run(command);
  EXPECT_EQ(finished.status, ExitStatus::exited(2));
  EXPECT_TRUE(is_one_line(
      finished.err,
      "buildlock: error: $BUILDLOCK_KERNEL_LOCKS must be auto, on or off, not `sometimes`"));
  EXPECT_FALSE(exists_no_follow(lock_dir)) << "a refused command touched the lock directory";
}

INSTANTIATE_TEST_SUITE_P(Subcommands, SharedFsKernelLocksBadValue,
                         ::testing::Values(BadValue{"Run", "run", {"L", "--", "true"}},
                                           BadValue{"Status", "status", {}},
                                           BadValue{"Clean", "clean", {}},
                                           BadValue{"Break", "break", {"L"}}),
                         [](const auto& param) { return param.param.name; });

TEST_F(SharedFsKernelLocks, OptionWinsOverTheEnvironmentVariable) {
  Command command = run_under_lock("L", scripted({"exit", "0"}), {"--kernel-locks", "on"});
  command.env("BUILDLOCK_KERNEL_LOCKS", "sometimes");
  Finished finished = run(command);
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err, "");
}

// What each setting does to a hold on a filesystem with kernel locks.

struct Setting {
  std::string name;
  std::optional<std::string> option;
  std::optional<std::string> variable;
  bool kernel_lock = true;
};

void PrintTo(const Setting& setting, std::ostream* out) {
  *out << setting.name;
}

class SharedFsKernelLockSetting : public SharedFsKernelLocks,
                                  public ::testing::WithParamInterface<Setting> {};

TEST_P(SharedFsKernelLockSetting, HoldsTheKernelLockOnlyWhenAllowed) {
  const Setting& setting = GetParam();
  std::vector<std::string> options;
  if (setting.option) {
    options = {"--kernel-locks", *setting.option};
  }
  auto holder = start_holding("L", options, {}, [&](Command& command) {
    if (setting.variable) {
      command.env("BUILDLOCK_KERNEL_LOCKS", *setting.variable);
    }
  });
  const auto metadata = nlohmann::json::parse(read_file(lock_path("L")));
  if (setting.kernel_lock) {
    EXPECT_FALSE(metadata.contains("kernel_lock")) << metadata.dump();
    EXPECT_FALSE(kernel_lock_is_free(lock_path("L")));
  } else {
    EXPECT_EQ(metadata.value("kernel_lock", true), false) << metadata.dump();
    EXPECT_TRUE(kernel_lock_is_free(lock_path("L")));
  }
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(holder->process->stderr_text(), "") << "no warning where flock works";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Settings, SharedFsKernelLockSetting,
                         ::testing::Values(Setting{"Default", std::nullopt, std::nullopt, true},
                                           Setting{"OptionAuto", "auto", std::nullopt, true},
                                           Setting{"OptionOn", "on", std::nullopt, true},
                                           Setting{"OptionOff", "off", std::nullopt, false},
                                           Setting{"VariableOn", std::nullopt, "on", true},
                                           Setting{"VariableOff", std::nullopt, "off", false},
                                           Setting{"EmptyVariableIsAuto", std::nullopt, "", true},
                                           Setting{"OptionOverVariable", "auto", "off", true}),
                         [](const auto& param) { return param.param.name; });

// Where flock fails.

class SharedFsWithoutFlock : public SharedFsKernelLocks,
                             public ::testing::WithParamInterface<std::string> {
protected:
  void SetUp() override {
    // The filter must work here, or every test below would test nothing.
    Finished probe = run(program({without_flock_binary, GetParam(), "true"}));
    ASSERT_EQ(probe.status, ExitStatus::exited(0)) << probe.err;
  }
};

const std::string fallback_warning = "buildlock: warning: the filesystem of `";

TEST_P(SharedFsWithoutFlock, OnIsRefusedWithOneErrorLine) {
  Pipe started;
  Command command =
      run_without_flock(GetParam(), scripted({"notify", "3"}), {"--kernel-locks", "on"});
  command.pass_fd(3, started.write_fd());
  Finished finished = run(command);
  started.close_write();
  EXPECT_EQ(finished.status, ExitStatus::exited(74));
  EXPECT_TRUE(is_one_line(finished.err,
                          "buildlock: error: the filesystem of `" + lock_dir +
                              "` does not support kernel locks (flock), and --kernel-locks on "
                              "requires them; use a local directory or --kernel-locks auto"));
  EXPECT_TRUE(started.ends_without_data(5s)) << "the command ran";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_P(SharedFsWithoutFlock, AutoFallsBackWithOneWarningAndNeverRobsItsHolder) {
  auto holder = std::make_unique<Holding>();
  Command holding = run_without_flock(GetParam(), scripted({"notify", "3", "wait", "4"}), {});
  holding.pass_fd(3, holder->started.write_fd()).pass_fd(4, holder->release.read_fd());
  holder->process.emplace(holding.start());
  holder->started.close_write();
  holder->release.close_read();
  ASSERT_TRUE(holder->started.receives_byte(10s)) << holder->process->stderr_text();
  const auto metadata = nlohmann::json::parse(read_file(lock_path("L")));
  EXPECT_EQ(metadata.value("kernel_lock", true), false) << metadata.dump();

  // Another run on the same filesystem: one warning, and the holder's pid (alive, in our PID
  // namespace) keeps the lock held.
  Finished waiter = run(
      run_without_flock(GetParam(), scripted({"exit", "0"}), {"--verbose", "--timeout", "0.3"}));
  EXPECT_EQ(waiter.status, ExitStatus::exited(75)) << waiter.err;
  EXPECT_EQ(count_occurrences(waiter.err, fallback_warning), 1U) << waiter.err;
  EXPECT_NE(waiter.err.find("[pid-alive]"), std::string::npos) << waiter.err;

  // A run that does have kernel locks finds the holder's free: the metadata says it proves
  // nothing, so the pid decides there too.
  Finished mixed = run(run_under_lock("L", scripted({"exit", "0"}),
                                      {"--verbose", "--kernel-locks", "auto", "--timeout", "0.3"}));
  EXPECT_EQ(mixed.status, ExitStatus::exited(75)) << mixed.err;
  EXPECT_NE(mixed.err.find("[pid-alive]"), std::string::npos) << mixed.err;

  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
  const std::string err = holder->process->stderr_text();
  EXPECT_TRUE(is_one_line(
      err, "buildlock: warning: the filesystem of `" + lock_dir +
               "` does not support kernel locks (flock); judging locks by pid and heartbeat "
               "instead (see docs/shared-filesystems.md; --kernel-locks off says so and silences "
               "this)"));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Errors, SharedFsWithoutFlock,
                         ::testing::Values("ENOLCK", "EOPNOTSUPP", "ENOSYS"));

// --kernel-locks off never calls flock: not even an error that auto would stop at reaches it.
TEST_F(SharedFsKernelLocks, OffNeverCallsFlock) {
  Finished refused =
      run(run_without_flock("EIO", scripted({"exit", "0"}), {"--kernel-locks", "auto"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(74)) << refused.err;
  EXPECT_NE(refused.err.find("flock"), std::string::npos) << refused.err;

  Finished finished =
      run(run_without_flock("EIO", scripted({"exit", "0"}), {"--kernel-locks", "off"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err, "");
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test
