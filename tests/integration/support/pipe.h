// Pipe: how tests and the processes they start tell each other "now".
//
// Both ends are close-on-exec in the test process, so a child holds an end only when the test
// passes it explicitly (Command::pass_fd). After starting the children that write to a pipe, the
// test closes its own write end: then end-of-file means every writer is gone, which is how a test
// learns that a command never ran, or that a whole process tree has died.
#pragma once

#include <chrono>
#include <gtest/gtest.h>
#include <optional>
#include <string>

namespace buildlock::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class Pipe {
public:
  Pipe();
  ~Pipe();
  Pipe(Pipe&& other) noexcept;
  Pipe& operator=(Pipe&&) = delete;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  void close_read();
  void close_write();

  // Writes one byte (the children's `wait FD` step returns on it).
  void write_byte(char byte = '.');

  // Success when a byte arrives within `timeout`; failure on end-of-file (every writer exited
  // without writing) or timeout. The byte read is stored in last_byte().
  ::testing::AssertionResult receives_byte(milliseconds timeout);
  // Success when every writer has closed its end without writing anything within `timeout`.
  ::testing::AssertionResult ends_without_data(milliseconds timeout);
  // Everything written until end-of-file, or nullopt when that takes longer than `timeout`.
  std::optional<std::string> read_to_end(milliseconds timeout);

  char last_byte() const { return last_byte_; }
  // When receives_byte() last saw its byte arrive (steady clock, right after poll returned).
  Clock::time_point last_byte_time() const { return last_byte_time_; }

private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  char last_byte_ = 0;
  Clock::time_point last_byte_time_{};
};

} // namespace buildlock::test
