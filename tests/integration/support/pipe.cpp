#include "support/pipe.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <unistd.h>
#include <utility>

namespace buildlock::test {
namespace {

enum class Readiness { readable, timed_out };

Readiness wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
    pollfd entry{fd, POLLIN, 0};
    const int ready = ::poll(&entry, 1, left < 0 ? 0 : static_cast<int>(left));
    if (ready > 0) {
      return Readiness::readable; // data, or end-of-file (POLLHUP)
    }
    if (ready == 0) {
      return Readiness::timed_out;
    }
    if (errno != EINTR) {
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
  }
}

ssize_t read_some(int fd, char* buffer, std::size_t size) {
  ssize_t n;
  do {
    n = ::read(fd, buffer, size);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw std::runtime_error(std::string("read: ") + std::strerror(errno));
  }
  return n;
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

} // namespace

Pipe::Pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
}

Pipe::~Pipe() {
  close_fd(read_fd_);
  close_fd(write_fd_);
}

Pipe::Pipe(Pipe&& other) noexcept
    : read_fd_(std::exchange(other.read_fd_, -1)), write_fd_(std::exchange(other.write_fd_, -1)),
      last_byte_(other.last_byte_), last_byte_time_(other.last_byte_time_) {}

void Pipe::close_read() {
  close_fd(read_fd_);
}
void Pipe::close_write() {
  close_fd(write_fd_);
}

void Pipe::write_byte(char byte) {
  if (write_fd_ < 0) {
    throw std::logic_error("Pipe::write_byte after close_write");
  }
  ssize_t n;
  do {
    n = ::write(write_fd_, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    throw std::runtime_error(std::string("write to pipe: ") + std::strerror(errno));
  }
}

::testing::AssertionResult Pipe::receives_byte(milliseconds timeout) {
  if (wait_readable(read_fd_, Clock::now() + timeout) == Readiness::timed_out) {
    return ::testing::AssertionFailure() << "no byte within " << timeout.count() << " ms";
  }
  last_byte_time_ = Clock::now();
  char byte = 0;
  if (read_some(read_fd_, &byte, 1) == 0) {
    return ::testing::AssertionFailure() << "end of file: every writer exited without writing";
  }
  last_byte_ = byte;
  return ::testing::AssertionSuccess() << "received '" << byte << "'";
}

::testing::AssertionResult Pipe::ends_without_data(milliseconds timeout) {
  auto text = read_to_end(timeout);
  if (!text) {
    return ::testing::AssertionFailure()
           << "a writer still holds the pipe open after " << timeout.count() << " ms";
  }
  if (!text->empty()) {
    return ::testing::AssertionFailure()
           << "received " << text->size() << " byte(s): \"" << *text << "\"";
  }
  return ::testing::AssertionSuccess() << "end of file without data";
}

std::optional<std::string> Pipe::read_to_end(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string text;
  for (;;) {
    if (wait_readable(read_fd_, deadline) == Readiness::timed_out) {
      return std::nullopt;
    }
    char buffer[512];
    const ssize_t n = read_some(read_fd_, buffer, sizeof buffer);
    if (n == 0) {
      return text;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

} // namespace buildlock::test
