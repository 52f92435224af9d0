#include "os/append_only_file.h"

#include "os/system_error.h"
#include "os/windows/native.h"

namespace buildlock::os {

Result<Fd> open_for_appending(const std::string& path) {
  // FILE_APPEND_DATA without FILE_WRITE_DATA: every WriteFile goes to the end of the file, as one
  // piece (Windows' counterpart of O_APPEND).
  const HANDLE handle = ::CreateFileW(widen(path).c_str(), FILE_APPEND_DATA | SYNCHRONIZE,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    return last_system_error("cannot open `" + path + "` for appending");
  }
  return Fd(from_handle(handle));
}

Status append_whole(const Fd& fd, std::string_view data) {
  DWORD written = 0;
  if (!::WriteFile(to_handle(fd.get()), data.data(), static_cast<DWORD>(data.size()), &written,
                   nullptr)) {
    return last_system_error("write");
  }
  if (written != data.size()) {
    return system_error("write (short: " + std::to_string(written) + " of " +
                            std::to_string(data.size()) + " bytes)",
                        static_cast<int>(ERROR_DISK_FULL));
  }
  return ok_status();
}

} // namespace buildlock::os
