// TcpRelay: helpers/tcp_relay.cpp in front of one etcd member, for the tests of a holder whose
// network fails: a buildlock given relay_location() talks to etcd only through it, and the test
// freezes, drops or corrupts that path while other runs reach etcd directly.
//
// Every command returns once the relay acknowledged it (its "ack N" line on stdout), so that what
// the test does next happens after the fault is in place.
#pragma once

#include "support/pipe.h"
#include "support/process.h"

#include <optional>
#include <string>

namespace buildlock::test {

class TcpRelay {
public:
  // Relays 127.0.0.1:<a port the relay picks> to 127.0.0.1:`target_port`.
  explicit TcpRelay(int target_port);
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  // "127.0.0.1:PORT" of the relay.
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  void freeze() { command("freeze"); }
  void thaw() { command("thaw"); }
  void drop() { command("drop"); }
  // The next `count` renewals (/v3/lease/keepalive) get an error object instead of etcd's answer.
  void inject_keepalive_errors(int count) { command("error " + std::to_string(count)); }
  // The next lease grant reaches etcd, but its answer reaches the client only `delay` later.
  void delay_grant_answer(milliseconds delay) {
    command("hold-grant " + std::to_string(delay.count()));
  }

  // How many injected answers the relay has sent, and how many requests to `path` it has seen.
  std::size_t injected() const;
  std::size_t requests(const std::string& path) const;
  const std::string& output_path() const { return process_->stdout_path(); }

private:
  void command(const std::string& line);

  Pipe commands_;
  std::optional<Process> process_;
  int port_ = 0;
  int sent_ = 0;
};

// helpers/timestamps.cpp.
const std::string& timestamps_binary();

} // namespace buildlock::test
