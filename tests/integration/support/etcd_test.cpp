#include "support/etcd_test.h"

#include "support/waiting.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace buildlock::test {

std::vector<std::string> EtcdTest::keys() const {
  const Finished listed = run(etcd.etcdctl({"get", "--prefix", "--keys-only", prefix}));
  std::vector<std::string> result;
  for (const std::string& line : lines_of(listed.out)) {
    if (!line.empty()) {
      result.push_back(line);
    }
  }
  return result;
}

std::size_t EtcdTest::kill_keepers(const std::string& name) const {
  // A keeper may not have reached exec yet when its buildlock's command starts: look again until
  // one is found, for a while.
  const auto deadline = Clock::now() + workload_bound(5s);
  std::size_t killed = 0;
  while ((killed = kill_keepers_once(name)) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  return killed;
}

std::size_t EtcdTest::kill_keepers_once(const std::string& name) const {
  std::size_t killed = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream file(entry.path() / "cmdline");
    std::vector<std::string> words;
    for (std::string word; std::getline(file, word, '\0');) {
      words.push_back(word);
    }
    // buildlock __etcd-lease-keeper LOCATION NAME; only this test's etcd (its location names
    // its port): never another test's keepers.
    if (words.size() == 4 && words[1] == "__etcd-lease-keeper" && words[2] == lock_dir &&
        words[3] == name && ::kill(std::stoi(pid), SIGKILL) == 0) {
      ++killed;
    }
  }
  return killed;
}

::testing::AssertionResult EtcdTest::keeper_is_ready(const std::string& name,
                                                     const std::string& location) const {
  const std::string where = location.empty() ? lock_dir : location;
  const auto deadline = Clock::now() + workload_bound(10s);
  std::string seen;
  while (Clock::now() < deadline) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string pid = entry.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      std::ifstream file(entry.path() / "cmdline");
      std::vector<std::string> words;
      for (std::string word; std::getline(file, word, '\0');) {
        words.push_back(word);
      }
      if (words.size() != 4 || words[1] != "__etcd-lease-keeper" || words[2] != where ||
          words[3] != name) {
        continue;
      }
      const std::string wchan = read_file(entry.path() / "wchan");
      const std::string stat = read_file(entry.path() / "stat");
      const auto after_name = stat.rfind(')');
      seen = "pid " + pid + " wchan " + wchan;
      if (wchan.find("pipe") != std::string::npos && after_name != std::string::npos &&
          stat.compare(after_name, 3, ") S") == 0) {
        ready_keeper = static_cast<pid_t>(std::stoi(pid));
        return ::testing::AssertionSuccess();
      }
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  return ::testing::AssertionFailure() << "no lease keeper of `" << name << "` at " << where
                                       << " waits on its pipe (" << seen << ")";
}

std::vector<std::string> EtcdTest::tree_of(std::vector<std::string> steps) {
  std::vector<std::string> argv = {"sh", "-c", "\"$@\" & wait", "sh"};
  const std::vector<std::string> command = scripted(std::move(steps));
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::unique_ptr<Holding> EtcdTest::hold_tree(const std::vector<std::string>& options,
                                             const std::vector<std::string>& command) const {
  auto holding = std::make_unique<Holding>();
  Command started = run_under_lock("L", command, options);
  started.pass_fd(3, holding->started.write_fd()).pass_fd(4, holding->release.read_fd());
  holding->process.emplace(started.start());
  holding->started.close_write();
  EXPECT_TRUE(holding->started.receives_byte(workload_bound(10s)));
  return holding;
}

} // namespace buildlock::test
