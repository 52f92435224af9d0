#include "support/etcd_cluster.h"

#include "support/binaries.h"
#include "support/temp_dir.h"
#include "support/waiting.h"

#include <csignal>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace buildlock::test {
namespace {

std::string local(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

// A CA, a server certificate for IP 127.0.0.1 and a client certificate (make_tls_files.sh).
EtcdTlsFiles make_tls_files(const std::string& dir) {
  ::mkdir(dir.c_str(), 0700);
  const Finished made = run(Command({"sh", make_tls_files_script(), dir}), milliseconds(30000));
  if (made.status != ExitStatus::exited(0)) {
    throw std::runtime_error("openssl could not make the test certificates: " + made.err);
  }
  return EtcdTlsFiles{dir + "/ca.pem", dir + "/client.pem", dir + "/client.key"};
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

EtcdCluster::EtcdCluster(int members, EtcdTransport transport, std::vector<std::string> extra) {
  const TempDir* temp = TempDir::current();
  if (temp == nullptr) {
    throw std::runtime_error("EtcdCluster needs the test's TempDir");
  }
  const std::string tls_dir = *temp / "etcd-tls";
  if (transport == EtcdTransport::tls) {
    tls_ = make_tls_files(tls_dir);
  }
  // Ports are picked free (bound to 0, read back, closed) and may be taken by someone else before
  // etcd binds them: then etcd exits at once, and the cluster starts again on other ports.
  for (int attempt = 0;; ++attempt) {
    const std::string failure = start_members(members, extra, attempt);
    if (failure.empty()) {
      return;
    }
    if (attempt >= 4 || failure.find("address already in use") == std::string::npos) {
      throw std::runtime_error(failure);
    }
  }
}

std::string EtcdCluster::start_members(int members, const std::vector<std::string>& extra,
                                       int attempt) {
  const TempDir* temp = TempDir::current();
  const std::string tls_dir = *temp / "etcd-tls";
  const std::string suffix = attempt == 0 ? "" : "-" + std::to_string(attempt);
  stop_members();
  client_ports_.clear();
  arguments_.clear();
  logs_.clear();
  std::vector<int> peer_ports;
  std::string initial_cluster;
  for (int i = 0; i < members; ++i) {
    client_ports_.push_back(free_port());
    peer_ports.push_back(free_port());
    initial_cluster += (i == 0 ? "" : ",") + std::string("m") + std::to_string(i) + "=http://" +
                       local(peer_ports.back());
  }
  for (int i = 0; i < members; ++i) {
    const std::string name = "m" + std::to_string(i);
    const std::string client_url = (tls_ ? "https://" : "http://") + local(client_ports_[i]);
    const std::string peer_url = "http://" + local(peer_ports[i]);
    const std::string log = *temp / ("etcd-" + name + suffix);
    std::vector<std::string> arguments{"etcd",
                                       "--name",
                                       name,
                                       "--data-dir",
                                       *temp / ("etcd-data-" + name + suffix),
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
                                       "250"};
    if (tls_) {
      arguments.insert(arguments.end(), {"--cert-file", tls_dir + "/server.pem", "--key-file",
                                         tls_dir + "/server.key", "--trusted-ca-file", tls_->ca,
                                         "--client-cert-auth"});
    }
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    arguments_.push_back(arguments);
    logs_.push_back(log);
    Command command(std::move(arguments));
    command.unset_env("ETCD_NAME").unset_env("ETCD_DATA_DIR").output_to(log);
    members_.emplace_back(command.start());
  }
  // etcd 3.4 logs to stderr. A member that exited is not waited for.
  const auto deadline = Clock::now() + workload_bound(milliseconds(20000));
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const std::string log = logs_[i] + ".err";
    while (read_file(log).find("ready to serve client requests") == std::string::npos) {
      for (std::size_t j = 0; j < members_.size(); ++j) {
        // One member gone: the others would wait for it until the deadline.
        if (!members_[j]->is_running()) {
          return "etcd exited at its start (see " + logs_[j] +
                 ".err): " + read_file(logs_[j] + ".err");
        }
      }
      if (Clock::now() >= deadline) {
        return "etcd did not start: see " + log;
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  return "";
}

void EtcdCluster::stop_members() {
  for (auto& member : members_) {
    if (member && member->is_running()) {
      member->send_signal(SIGCONT);
      member->send_signal(SIGKILL);
      member->wait(milliseconds(5000));
    }
  }
  members_.clear();
}

EtcdCluster::~EtcdCluster() {
  stop_members();
}

void EtcdCluster::restart(std::size_t index) {
  Process& old = *members_[index];
  old.send_signal(SIGCONT);
  old.send_signal(SIGKILL);
  old.wait(milliseconds(5000));
  logs_[index] += "-again";
  Command command(arguments_[index]);
  command.unset_env("ETCD_NAME").unset_env("ETCD_DATA_DIR").output_to(logs_[index]);
  members_[index].emplace(command.start());
  if (!file_eventually_contains(logs_[index] + ".err", "ready to serve client requests",
                                workload_bound(milliseconds(20000)))) {
    throw std::runtime_error("etcd did not start again: see " + logs_[index] + ".err");
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
  return (tls_ ? "etcds://" : "etcd://") + endpoints() + prefix;
}

Command EtcdCluster::etcdctl(std::vector<std::string> arguments) const {
  arguments.insert(arguments.begin(), {"etcdctl", "--endpoints", endpoints()});
  if (tls_) {
    arguments.insert(arguments.begin() + 3, {"--cacert", tls_->ca, "--cert", tls_->client_cert,
                                             "--key", tls_->client_key});
  }
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
