#include "os/whole_file.h"

#include "os/fd.h"
#include "os/filesystem.h"
#include "os/system_error.h"
#include "os/windows/native.h"

namespace buildlock::os {

Status write_whole_file(const std::string& path, const std::string& data) {
  const HANDLE handle =
      ::CreateFileW(widen(path).c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE,
                    nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    return last_system_error("cannot write `" + path + "`");
  }
  const Fd file(from_handle(handle));
  if (auto written = write_all(file, data); !written) {
    return std::move(written.error()).with("cannot write `" + path + "`");
  }
  return ok_status();
}

} // namespace buildlock::os
