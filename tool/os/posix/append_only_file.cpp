#include "os/append_only_file.h"

#include "os/system_error.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace buildlock::os {

Result<Fd> open_for_appending(const std::string& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return last_system_error("cannot open `" + path + "` for appending");
  }
  return Fd(fd);
}

Status append_whole(const Fd& fd, std::string_view data) {
  ssize_t written = -1;
  do {
    written = ::write(fd.get(), data.data(), data.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) {
    return last_system_error("write");
  }
  if (static_cast<std::size_t>(written) != data.size()) {
    return system_error("write (short: " + std::to_string(written) + " of " +
                            std::to_string(data.size()) + " bytes)",
                        ENOSPC);
  }
  return ok_status();
}

} // namespace buildlock::os
