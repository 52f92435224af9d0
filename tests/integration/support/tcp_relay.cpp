#include "support/tcp_relay.h"

#include "support/waiting.h"

#include <stdexcept>
#include <unistd.h>

namespace buildlock::test {

const std::string& timestamps_binary() {
  static const std::string path = TIMESTAMPS_BINARY;
  return path;
}

TcpRelay::TcpRelay(int target_port) {
  Command relay({TCP_RELAY_BINARY, std::to_string(target_port)});
  relay.pass_fd(3, commands_.read_fd());
  process_.emplace(relay.start());
  commands_.close_read();
  if (!file_eventually_contains(process_->stdout_path(), "\n", workload_bound(10s))) {
    throw std::runtime_error("tcp_relay did not start: " + process_->stderr_text());
  }
  const std::string first = read_file(process_->stdout_path());
  port_ = std::stoi(first.substr(first.find(' ') + 1));
}

void TcpRelay::command(const std::string& line) {
  const std::string text = line + "\n";
  if (::write(commands_.write_fd(), text.data(), text.size()) !=
      static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("tcp_relay is gone");
  }
  ++sent_;
  if (!file_eventually_contains(process_->stdout_path(), "ack " + std::to_string(sent_) + "\n",
                                workload_bound(10s))) {
    throw std::runtime_error("tcp_relay did not take `" + line + "`");
  }
}

std::size_t TcpRelay::injected() const {
  return count_occurrences(read_file(process_->stdout_path()), "injected keepalive error\n");
}

std::size_t TcpRelay::requests(const std::string& path) const {
  return count_occurrences(read_file(process_->stdout_path()), "request " + path + "\n");
}

} // namespace buildlock::test
