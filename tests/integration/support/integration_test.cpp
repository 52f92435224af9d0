#include "support/integration_test.h"

#include "support/kernel_locks.h"
#include "support/lock_files.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>

namespace buildlock::test {

void IntegrationTest::make_lock_dir() const {
  if (::mkdir(lock_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw std::runtime_error("mkdir " + lock_dir + ": " + std::strerror(errno));
  }
}

std::string IntegrationTest::lock_path(std::string_view name) const {
  return lock_dir + "/" + std::string(name) + ".lock";
}

Command IntegrationTest::buildlock(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), buildlock_binary());
  return program(std::move(arguments));
}

Command IntegrationTest::program(std::vector<std::string> argv) {
  Command command(std::move(argv));
  for (const char* variable :
       {"BUILDLOCK_DIR", "BUILDLOCK_TIMEOUT", "BUILDLOCK_STALE_AFTER", "BUILDLOCK_HELD",
        "BUILDLOCK_KERNEL_LOCKS", "BUILDLOCK_ETCD_LEASES", "BUILDLOCK_ETCD_USER",
        "BUILDLOCK_ETCD_CACERT", "BUILDLOCK_ETCD_CERT", "BUILDLOCK_ETCD_KEY", "BUILDLOCK_TRACE"}) {
    command.unset_env(variable);
  }
  if (kernel_locks_off()) {
    // Inherited by everything the program starts: nested runs, shell loops, status, clean, break.
    command.env("BUILDLOCK_KERNEL_LOCKS", "off");
  }
  return command;
}

std::vector<std::string> IntegrationTest::run_arguments(const std::string& lock,
                                                        std::vector<std::string> command,
                                                        std::vector<std::string> options) const {
  std::vector<std::string> arguments = {"run", "--dir", lock_dir};
  if (kernel_locks_off()) {
    // The option as well as the variable (program()): the pass covers both ways of forcing it.
    arguments.insert(arguments.end(), {"--kernel-locks", "off"});
  }
  arguments.insert(arguments.end(), options.begin(), options.end());
  arguments.push_back(lock);
  arguments.push_back("--");
  arguments.insert(arguments.end(), command.begin(), command.end());
  return arguments;
}

Command IntegrationTest::run_under_lock(const std::string& lock, std::vector<std::string> command,
                                        std::vector<std::string> options) const {
  return buildlock(run_arguments(lock, std::move(command), std::move(options)));
}

std::vector<std::string> IntegrationTest::scripted(std::vector<std::string> steps) {
  steps.insert(steps.begin(), scripted_command_binary());
  return steps;
}

void IntegrationTest::expect_lock_held() const {
  Finished probe = run(run_under_lock("L", scripted({}), {"--timeout", "0"}));
  EXPECT_EQ(probe.status, ExitStatus::exited(75)) << "the lock was free while the command ran";
}

void IntegrationTest::expect_lock_free_without_reclaim() const {
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
  Finished next = run(run_under_lock("L", scripted({}), {"--verbose", "--timeout", "0"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  EXPECT_EQ(next.err.find("reclaimed"), std::string::npos)
      << "the lock was left behind and had to be reclaimed:\n"
      << next.err;
}

std::unique_ptr<Holding> IntegrationTest::start_holding(
    const std::string& lock, std::vector<std::string> options, std::vector<std::string> then,
    const std::function<void(Command&)>& configure, bool wait_until_running) const {
  auto holding = std::make_unique<Holding>();
  std::vector<std::string> steps = {"notify", "3", "wait", "4"};
  steps.insert(steps.end(), then.begin(), then.end());
  Command command = run_under_lock(lock, scripted(steps), std::move(options));
  command.pass_fd(3, holding->started.write_fd()).pass_fd(4, holding->release.read_fd());
  if (configure) {
    configure(command);
  }
  holding->process.emplace(command.start());
  holding->started.close_write();
  holding->release.close_read();
  if (wait_until_running) {
    EXPECT_TRUE(holding->started.receives_byte(10s))
        << "the holder's command did not start; stderr:\n"
        << holding->process->stderr_text();
  }
  return holding;
}

} // namespace buildlock::test
