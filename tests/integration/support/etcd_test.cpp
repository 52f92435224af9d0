#include "support/etcd_test.h"

#include "support/waiting.h"

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
