// EtcdCluster: real etcd servers (Debian's etcd-server, /usr/bin/etcd) for the tests of locks held
// in etcd, on 127.0.0.1 with free ports and data in the test's TempDir.
//
// start() returns once every member logged "ready to serve client requests" (a member serves
// only after the cluster elected a leader and took it in), never after a guessed delay. Members
// are killed and reaped when the cluster goes out of scope (a stopped one is continued first), so
// nothing is left running after a test, passed or failed.
//
// Elections are shortened (heartbeat 25 ms, election timeout 250 ms) so that a leader's loss
// costs a test a fraction of a second; etcd's minimum lease TTL shrinks with them (to 1 s).
#pragma once

#include "support/process.h"

#include <optional>
#include <string>
#include <vector>

namespace buildlock::test {

// The PEM files of a cluster that serves its clients over TLS and asks them for a certificate.
struct EtcdTlsFiles {
  std::string ca;          // the test CA that signed both certificates
  std::string client_cert; // a client certificate etcd accepts (extendedKeyUsage clientAuth)
  std::string client_key;
};

enum class EtcdTransport { plain, tls };

class EtcdCluster {
public:
  // Starts `members` members (1 or 3) and waits until they serve. With EtcdTransport::tls, a CA,
  // a server certificate for 127.0.0.1 and a client certificate are made first (openssl), the
  // members serve https and require a client certificate, and location() is etcds://.
  // `extra` is added to every member's command line (`--auth-token-ttl 1`, ...).
  explicit EtcdCluster(int members = 1, EtcdTransport transport = EtcdTransport::plain,
                       std::vector<std::string> extra = {});
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;
  ~EtcdCluster();

  // etcd://127.0.0.1:P1[,127.0.0.1:P2...]/PREFIX (etcds:// with TLS)
  std::string location(const std::string& prefix) const;
  // "127.0.0.1:P1[,...]" for etcdctl --endpoints.
  std::string endpoints() const;
  // "127.0.0.1:P" of member `index`.
  std::string endpoint(std::size_t index) const;

  // Member `index`'s process (for SIGSTOP, SIGCONT, SIGKILL).
  Process& member(std::size_t index) { return *members_[index]; }
  std::size_t size() const { return members_.size(); }
  // Kills member `index` (SIGKILL) and starts it again on the same ports and data; returns once
  // it serves again. (A member restarting under a client: an upgrade, a crash.)
  void restart(std::size_t index);

  // The member that is the Raft leader now (asked with `etcdctl endpoint status`).
  std::size_t leader() const;

  // `etcdctl --endpoints <all> ARGS...`, with the variables that change etcdctl unset.
  Command etcdctl(std::vector<std::string> arguments) const;

  // The client's files, with EtcdTransport::tls.
  const std::optional<EtcdTlsFiles>& tls() const { return tls_; }

private:
  // Starts the members on fresh ports (data and logs named after `attempt`); "" once they
  // serve, else why not.
  std::string start_members(int members, const std::vector<std::string>& extra, int attempt);
  void stop_members();

  std::optional<EtcdTlsFiles> tls_;
  std::vector<int> client_ports_;
  std::vector<std::optional<Process>> members_;
  std::vector<std::vector<std::string>> arguments_; // each member's command line
  std::vector<std::string> logs_;
};

// A port nobody listens on right now (bound to 0, read back, closed).
int free_port();

} // namespace buildlock::test
