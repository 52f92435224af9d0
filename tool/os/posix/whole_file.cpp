#include "os/whole_file.h"

#include "os/fd.h"
#include "os/filesystem.h"
#include "os/system_error.h"

#include <cerrno>
#include <fcntl.h>

namespace buildlock::os {

Status write_whole_file(const std::string& path, const std::string& data) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return last_system_error("cannot write `" + path + "`");
  }
  const Fd file(fd);
  if (auto written = write_all(file, data); !written) {
    return std::move(written.error()).with("cannot write `" + path + "`");
  }
  return ok_status();
}

} // namespace buildlock::os
