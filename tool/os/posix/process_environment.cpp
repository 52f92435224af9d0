#include "os/posix/process_environment.h"

#include "os/fd.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace buildlock::os {
namespace {

int read_environment(const std::string& path, std::string& block) {
  block.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  const Fd file(fd);
  char buffer[16384];
  ssize_t n = 0;
  while (block.size() < (1u << 20) && (n = ::read(file.get(), buffer, sizeof buffer)) > 0) {
    block.append(buffer, static_cast<std::size_t>(n));
  }
  return n < 0 ? errno : 0;
}

} // namespace

int read_process_environment(std::int64_t pid, std::string& block) {
  return read_environment("/proc/" + std::to_string(pid) + "/environ", block);
}

int read_thread_environment(std::int64_t pid, std::string_view thread, std::string& block) {
  return read_environment(
      "/proc/" + std::to_string(pid) + "/task/" + std::string(thread) + "/environ", block);
}

bool environment_has(std::string_view block, std::string_view name,
                     const std::function<bool(std::string_view)>& matches) {
  while (!block.empty()) {
    const auto end = block.find('\0');
    const std::string_view entry = block.substr(0, end);
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=' &&
        matches(entry.substr(name.size() + 1))) {
      return true;
    }
    if (end == std::string_view::npos) {
      break;
    }
    block.remove_prefix(end + 1);
  }
  return false;
}

} // namespace buildlock::os
