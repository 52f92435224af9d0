#include "support/etcd_cluster.h"

#include "support/temp_dir.h"
#include "support/waiting.h"

#include <csignal>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

std::string local(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

} // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket failed");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("bind to a free port failed");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

EtcdCluster::EtcdCluster(int members) {
  const TempDir* temp = TempDir::current();
  if (temp == nullptr) {
    throw std::runtime_error("EtcdCluster needs the test's TempDir");
  }
  std::vector<int> peer_ports;
  std::string initial_cluster;
  for (int i = 0; i < members; ++i) {
    client_ports_.push_back(free_port());
    peer_ports.push_back(free_port());
    initial_cluster += (i == 0 ? "" : ",") + std::string("m") + std::to_string(i) + "=http://" +
                       local(peer_ports.back());
  }
  std::vector<std::string> logs;
  for (int i = 0; i < members; ++i) {
    const std::string name = "m" + std::to_string(i);
    const std::string client_url = "http://" + local(client_ports_[i]);
    const std::string peer_url = "http://" + local(peer_ports[i]);
    const std::string log = *temp / ("etcd-" + name);
    Command command({"etcd",
                     "--name",
                     name,
                     "--data-dir",
                     *temp / ("etcd-data-" + name),
                     "--listen-client-urls",
                     client_url,
                     "--advertise-client-urls",
                     client_url,
                     "--listen-peer-urls",
                     peer_url,
                     "--initial-advertise-peer-urls",
                     peer_url,
                     "--initial-cluster",
                     initial_cluster,
                     "--initial-cluster-state",
                     "new",
                     "--heartbeat-interval",
                     "25",
                     "--election-timeout",
                     "250"});
    command.unset_env("ETCD_NAME").unset_env("ETCD_DATA_DIR").output_to(log);
    members_.emplace_back(command.start());
    logs.push_back(log + ".err");
  }
  for (const std::string& log : logs) {
    // etcd 3.4 logs to stderr.
    if (!file_eventually_contains(log, "ready to serve client requests",
                                  workload_bound(milliseconds(20000)))) {
      throw std::runtime_error("etcd did not start: see " + log);
    }
  }
}

EtcdCluster::~EtcdCluster() {
  for (auto& member : members_) {
    if (member && member->is_running()) {
      member->send_signal(SIGCONT);
      member->send_signal(SIGKILL);
      member->wait(milliseconds(5000));
    }
  }
}

std::string EtcdCluster::endpoint(std::size_t index) const {
  return local(client_ports_[index]);
}

std::string EtcdCluster::endpoints() const {
  std::string list;
  for (std::size_t i = 0; i < client_ports_.size(); ++i) {
    list += (i == 0 ? "" : ",") + endpoint(i);
  }
  return list;
}

std::string EtcdCluster::location(const std::string& prefix) const {
  return "etcd://" + endpoints() + prefix;
}

Command EtcdCluster::etcdctl(std::vector<std::string> arguments) const {
  arguments.insert(arguments.begin(), {"etcdctl", "--endpoints", endpoints()});
  Command command(std::move(arguments));
  command.env("ETCDCTL_API", "3").unset_env("ETCDCTL_ENDPOINTS");
  return command;
}

std::size_t EtcdCluster::leader() const {
  Command status = etcdctl({"endpoint", "status", "--write-out", "json"});
  const Finished done = run(status, milliseconds(10000));
  // One object per member that answered: {"Endpoint": ..., "Status": {"header": {"member_id"},
  // "leader"}}.
  const nlohmann::json answers = nlohmann::json::parse(done.out);
  for (const auto& answer : answers) {
    const auto& member_status = answer.at("Status");
    if (member_status.at("header").at("member_id") == member_status.at("leader")) {
      const std::string endpoint_url = answer.at("Endpoint").get<std::string>();
      for (std::size_t i = 0; i < client_ports_.size(); ++i) {
        if (endpoint_url.ends_with(":" + std::to_string(client_ports_[i]))) {
          return i;
        }
      }
    }
  }
  throw std::runtime_error("no etcd member says it leads: " + done.out + done.err);
}

} // namespace buildlock::test
