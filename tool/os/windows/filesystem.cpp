// The filesystem calls on Windows. The rules of the POSIX side hold here too, in Windows terms:
// - never follow a link where a lock entry is concerned: symbolic links and junctions are both
//   reparse points, opened as themselves (FILE_FLAG_OPEN_REPARSE_POINT) and reported as
//   EntryType::symlink, which nothing ever opens as a lock file;
// - every handle lets others read, write and delete (FILE_SHARE_*): a holder's open lock file must
//   never keep an inspector out or a reclaimer from removing it;
// - handles are not inherited (no SECURITY_ATTRIBUTES with bInheritHandle), like O_CLOEXEC.
// Paths are UTF-8 in buildlock and UTF-16 here; both separators are accepted.
#include "os/filesystem.h"

#include "os/system_error.h"
#include "os/windows/native.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

namespace buildlock::os {
namespace {

constexpr DWORD share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// FileDispositionInfoEx (Windows 10 1709), which MinGW's headers declare only for an odd
// _WIN32_WINNT (0x0A000002); its value is fixed by the Windows API.
constexpr auto file_disposition_info_ex = static_cast<FILE_INFO_BY_HANDLE_CLASS>(21);

bool is_separator(char c) {
  return c == '/' || c == '\\';
}

// 100-ns ticks since 1601 -> ns since 1970, saturated like the POSIX side (a time past 2262 reads
// as far in the future, never wraps to long ago).
std::int64_t ns_since_epoch(std::int64_t ticks) {
  constexpr std::int64_t epoch_ticks = 116'444'736'000'000'000;
  constexpr std::int64_t max_ticks = INT64_MAX / 100 - 1;
  const std::int64_t since = ticks - epoch_ticks;
  if (since > max_ticks) {
    return max_ticks * 100;
  }
  if (since < -max_ticks / 2) {
    return -max_ticks / 2 * 100;
  }
  return since * 100;
}

std::int64_t ticks_of(const FILETIME& time) {
  return static_cast<std::int64_t>((std::uint64_t(time.dwHighDateTime) << 32) | time.dwLowDateTime);
}

ErrorKind kind_for_error(DWORD err) {
  switch (err) {
  case ERROR_ACCESS_DENIED:
  case ERROR_WRITE_PROTECT:
  case ERROR_DISK_FULL:
  case ERROR_HANDLE_DISK_FULL:
  case ERROR_DIRECTORY:
  case ERROR_FILENAME_EXCED_RANGE:
  case ERROR_INVALID_NAME:
  case ERROR_CANT_ACCESS_FILE:
  case ERROR_SHARING_VIOLATION:
  case ERROR_NOT_SAME_DEVICE:
  case ERROR_PATH_NOT_FOUND:
    return ErrorKind::lock_directory;
  default:
    return ErrorKind::system;
  }
}

Error path_error(const char* call, const std::string& path, DWORD err) {
  return system_error(std::string(call) + " `" + path + "`", static_cast<int>(err),
                      kind_for_error(err));
}

bool is_missing(DWORD err) {
  return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND;
}

// What GetFileInformationByHandle and FileBasicInfo say of an open handle.
Result<EntryInfo> info_of(HANDLE handle) {
  BY_HANDLE_FILE_INFORMATION file{};
  if (!::GetFileInformationByHandle(handle, &file)) {
    return last_system_error("GetFileInformationByHandle");
  }
  EntryInfo info;
  if ((file.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
    info.type = EntryType::symlink; // a symbolic link, a junction, or another kind of redirection
  } else if ((file.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    info.type = EntryType::directory;
  } else {
    switch (::GetFileType(handle)) {
    case FILE_TYPE_DISK:
      info.type = EntryType::regular;
      break;
    case FILE_TYPE_PIPE:
      info.type = EntryType::fifo;
      break;
    case FILE_TYPE_CHAR:
      info.type = EntryType::device;
      break;
    default:
      info.type = EntryType::other;
      break;
    }
  }
  // The file index identifies a file within its volume, and buildlock only ever compares files
  // that one name of one directory led to, so on one volume. The volume serial is left out: Wine
  // reports 0 for it through a handle opened before the file was renamed (every lock file is).
  info.identity = {0, (std::uint64_t(file.nFileIndexHigh) << 32) | file.nFileIndexLow};
  info.size =
      static_cast<std::int64_t>((std::uint64_t(file.nFileSizeHigh) << 32) | file.nFileSizeLow);
  info.mtime_ns = ns_since_epoch(ticks_of(file.ftLastWriteTime));
  // ChangeTime moves with links, renames and attribute changes, like st_ctime.
  FILE_BASIC_INFO basic{};
  if (::GetFileInformationByHandleEx(handle, FileBasicInfo, &basic, sizeof basic)) {
    info.ctime_ns = ns_since_epoch(basic.ChangeTime.QuadPart);
  } else {
    info.ctime_ns = info.mtime_ns;
  }
  // Windows has ACLs, not owners and mode bits: no uid, and the bits of a private entry (a
  // per-user directory under %LOCALAPPDATA% is private by its ACL), read-only where marked so.
  const bool read_only = (file.dwFileAttributes & FILE_ATTRIBUTE_READONLY) != 0;
  const bool directory = info.type == EntryType::directory;
  info.mode = directory ? (read_only ? 0500 : 0700) : (read_only ? 0400 : 0600);
  return info;
}

// Opens `path` for querying only (no access to the content), as itself when `follow` is false.
HANDLE open_for_query(const std::wstring& path, bool follow) {
  DWORD flags = FILE_FLAG_BACKUP_SEMANTICS; // directories can only be opened with it
  if (!follow) {
    flags |= FILE_FLAG_OPEN_REPARSE_POINT;
  }
  return ::CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES, share_all, nullptr, OPEN_EXISTING, flags,
                       nullptr);
}

Result<EntryInfo> stat_path(const std::string& path, bool follow) {
  const HANDLE handle = open_for_query(widen(path), follow);
  if (handle == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    if (is_missing(err)) {
      return EntryInfo{};
    }
    return path_error("cannot inspect", path, err);
  }
  Fd owner(from_handle(handle));
  return info_of(handle);
}

// Renames the open file `handle` (named `path`) to a name of its directory that no part of
// buildlock ever lists, reads or creates: ".buildlock-removed-<pid>-<n>" (lock_listing.cpp passes
// over names it does not know). It is gone once its last handle is closed.
Status hide_for_removal(HANDLE handle, const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const std::string hidden = join_path(
      split_path(path).first, ".buildlock-removed-" + std::to_string(::GetCurrentProcessId()) +
                                  "-" + std::to_string(counter.fetch_add(1)));
  const std::wstring name = widen(hidden);
  // FILE_RENAME_INFO ends in a variable-length name.
  std::vector<unsigned char> buffer(sizeof(FILE_RENAME_INFO) + name.size() * sizeof(wchar_t));
  auto* rename = reinterpret_cast<FILE_RENAME_INFO*>(buffer.data());
  rename->ReplaceIfExists = FALSE;
  rename->RootDirectory = nullptr;
  rename->FileNameLength = static_cast<DWORD>(name.size() * sizeof(wchar_t));
  std::copy(name.begin(), name.end(), rename->FileName);
  if (!::SetFileInformationByHandle(handle, FileRenameInfo, rename,
                                    static_cast<DWORD>(buffer.size()))) {
    return path_error("cannot remove", path, ::GetLastError());
  }
  return ok_status();
}

} // namespace

Result<EntryInfo> lstat_entry(const std::string& path) {
  return stat_path(path, false);
}

Result<EntryInfo> stat_entry(const std::string& path) {
  return stat_path(path, true);
}

Result<EntryInfo> fstat_entry(const Fd& fd) {
  return fstat_entry(fd.get());
}

Result<EntryInfo> fstat_entry(NativeHandle fd) {
  return info_of(to_handle(fd));
}

Status make_directories(const std::string& path) {
  if (path.empty()) {
    return Error{ErrorKind::lock_directory, "empty directory path"};
  }
  if (auto existing = stat_entry(path); existing && existing->type == EntryType::directory) {
    return ok_status();
  }
  // From the top, skipping what cannot be created: a drive ("C:"), the root, or the server and
  // share of a UNC path ("\\server\share").
  std::size_t start = 0;
  if (path.size() >= 2 && is_separator(path[0]) && is_separator(path[1])) {
    start = path.find_first_of("/\\", 2);
    start = start == std::string::npos ? path.size() : path.find_first_of("/\\", start + 1);
  } else if (path.size() >= 2 && path[1] == ':') {
    start = 2;
  }
  for (std::size_t end = path.find_first_of("/\\", start == 0 ? 1 : start + 1);;
       end = path.find_first_of("/\\", end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (!prefix.empty() && !is_separator(prefix.back()) && prefix.size() > start &&
        !::CreateDirectoryW(widen(prefix).c_str(), nullptr)) {
      const DWORD err = ::GetLastError();
      if (err != ERROR_ALREADY_EXISTS && err != ERROR_ACCESS_DENIED) {
        return path_error("cannot create directory", prefix, err);
      }
    }
    if (end == std::string::npos) {
      break;
    }
  }
  auto info = stat_entry(path);
  if (!info) {
    return info.error();
  }
  if (info->type == EntryType::missing) {
    return Error{ErrorKind::lock_directory, "cannot create directory `" + path + "`"};
  }
  if (info->type != EntryType::directory) {
    return Error{ErrorKind::lock_directory,
                 "`" + path + "` is " + describe(info->type) + ", not a directory"};
  }
  return ok_status();
}

Result<Fd> create_new_file(const std::string& path) {
  // CREATE_NEW fails on any existing name, a link included: it is never followed.
  const HANDLE handle =
      ::CreateFileW(widen(path).c_str(), GENERIC_READ | GENERIC_WRITE, share_all, nullptr,
                    CREATE_NEW, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    return path_error("cannot create", path, ::GetLastError());
  }
  return Fd(from_handle(handle));
}

Result<std::optional<Fd>> create_new_file_unless_taken(const std::string& path) {
  const HANDLE handle =
      ::CreateFileW(widen(path).c_str(), GENERIC_READ | GENERIC_WRITE, share_all, nullptr,
                    CREATE_NEW, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_FILE_EXISTS || err == ERROR_ALREADY_EXISTS) {
      return std::optional<Fd>();
    }
    return path_error("cannot create", path, err);
  }
  return std::optional<Fd>(Fd(from_handle(handle)));
}

Status add_permissions(const Fd&, std::uint32_t) {
  // No mode bits: a new file inherits its directory's access list, which is what lets the
  // directory's other users at it; and hard links are not restricted by owner.
  return ok_status();
}

Result<std::optional<Fd>> open_regular_file_if_present(const std::string& path, OpenFor purpose) {
  // The type is checked on the open handle, so a swap between a check and the open cannot fool
  // us. Never created or truncated: an observer changes nothing. Read-write for locking where we
  // may (a heartbeat touches the file), else read-only: LockFileEx needs either.
  const std::wstring wide = widen(path);
  constexpr DWORD flags = FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS;
  HANDLE handle = INVALID_HANDLE_VALUE;
  DWORD err = ERROR_SUCCESS;
  if (purpose == OpenFor::locking) {
    handle = ::CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE, share_all, nullptr,
                           OPEN_EXISTING, flags, nullptr);
    err = ::GetLastError();
  }
  if (handle == INVALID_HANDLE_VALUE &&
      (purpose == OpenFor::reading || err == ERROR_ACCESS_DENIED)) {
    handle = ::CreateFileW(wide.c_str(), GENERIC_READ, share_all, nullptr, OPEN_EXISTING, flags,
                           nullptr);
    err = ::GetLastError();
  }
  if (handle == INVALID_HANDLE_VALUE) {
    if (is_missing(err)) {
      return std::optional<Fd>();
    }
    return path_error("cannot open", path, err);
  }
  Fd fd(from_handle(handle));
  auto info = fstat_entry(fd);
  if (!info) {
    return info.error();
  }
  if (info->type != EntryType::regular) {
    return Error{ErrorKind::lock_directory, "`" + path + "` is " + describe(info->type)};
  }
  return std::optional<Fd>(std::move(fd));
}

Result<Fd> open_regular_file(const std::string& path, OpenFor purpose) {
  auto fd = open_regular_file_if_present(path, purpose);
  if (!fd) {
    return fd.error();
  }
  if (!*fd) {
    return path_error("cannot open", path, ERROR_FILE_NOT_FOUND);
  }
  return std::move(**fd);
}

Status write_all(const Fd& fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto chunk = static_cast<DWORD>(std::min<std::size_t>(data.size() - done, 1 << 20));
    DWORD written = 0;
    if (!::WriteFile(to_handle(fd.get()), data.data() + done, chunk, &written, nullptr)) {
      const DWORD err = ::GetLastError();
      return system_error("write", static_cast<int>(err), kind_for_error(err));
    }
    done += written;
  }
  return ok_status();
}

Result<std::string> read_prefix(const Fd& fd, std::size_t limit, bool& truncated) {
  std::string data(std::min<std::size_t>(limit + 1, 4096), '\0');
  std::size_t done = 0;
  for (;;) {
    if (done == data.size()) {
      if (data.size() > limit) {
        break;
      }
      data.resize(std::min(limit + 1, data.size() * 4));
    }
    // At an explicit offset, like pread: the handle's own position does not matter.
    OVERLAPPED at{};
    at.Offset = static_cast<DWORD>(done & 0xFFFF'FFFF);
    at.OffsetHigh = static_cast<DWORD>(std::uint64_t(done) >> 32);
    DWORD n = 0;
    const auto wanted = static_cast<DWORD>(std::min<std::size_t>(data.size() - done, 1 << 20));
    if (!::ReadFile(to_handle(fd.get()), data.data() + done, wanted, &n, &at)) {
      if (::GetLastError() == ERROR_HANDLE_EOF) {
        break;
      }
      return last_system_error("read");
    }
    if (n == 0) {
      break;
    }
    done += n;
  }
  truncated = done > limit;
  data.resize(truncated ? limit : done);
  return data;
}

Result<bool> link_new_name(const std::string& from, const std::string& to) {
  // A rename that never replaces: the counterpart of link() for a file that is complete before
  // it gets its name, on every filesystem (FAT and some network shares have no hard links).
  if (::MoveFileExW(widen(from).c_str(), widen(to).c_str(), 0)) {
    return true;
  }
  const DWORD err = ::GetLastError();
  if (err == ERROR_ALREADY_EXISTS || err == ERROR_FILE_EXISTS) {
    return false;
  }
  return path_error("cannot create", to, err);
}

Result<LinkOutcome> link_unless_taken(const std::string& from, const std::string& to) {
  if (::CreateHardLinkW(widen(to).c_str(), widen(from).c_str(), nullptr)) {
    return LinkOutcome::linked;
  }
  const DWORD err = ::GetLastError();
  if (err == ERROR_ALREADY_EXISTS || err == ERROR_FILE_EXISTS) {
    return LinkOutcome::name_taken;
  }
  if (is_missing(err)) {
    return LinkOutcome::source_gone;
  }
  return path_error("cannot link", from, err);
}

Result<bool> remove_file(const std::string& path) {
  // Opened as itself (a link is removed, never its target), with DELETE access; every handle
  // buildlock opens shares deletion, so an open lock file can be removed. Everything below acts
  // on this handle, so on the file that had the name when it was opened, as unlink() does.
  const HANDLE handle =
      ::CreateFileW(widen(path).c_str(), DELETE | FILE_READ_ATTRIBUTES, share_all, nullptr,
                    OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    if (is_missing(err)) {
      return false;
    }
    return path_error("cannot remove", path, err);
  }
  Fd owner(from_handle(handle));
  // POSIX semantics: the name goes at once, though others still have the file open (NTFS since
  // Windows 10 1709).
  FILE_DISPOSITION_INFO_EX posix{};
  posix.Flags = FILE_DISPOSITION_FLAG_DELETE | FILE_DISPOSITION_FLAG_POSIX_SEMANTICS |
                FILE_DISPOSITION_FLAG_IGNORE_READONLY_ATTRIBUTE;
  if (::SetFileInformationByHandle(handle, file_disposition_info_ex, &posix, sizeof posix)) {
    return true;
  }
  // Elsewhere (FAT, older Windows, Wine) a deleted file keeps its name, "delete pending", until
  // the last handle to it is closed, and nobody can create that name meanwhile: the next holder
  // of the lock would fail. So the file first moves out of the way, to a name no part of
  // buildlock looks at, and is deleted there.
  if (auto hidden = hide_for_removal(handle, path); !hidden) {
    return hidden.error();
  }
  FILE_DISPOSITION_INFO classic{};
  classic.DeleteFile = TRUE;
  if (!::SetFileInformationByHandle(handle, FileDispositionInfo, &classic, sizeof classic)) {
    return path_error("cannot remove", path, ::GetLastError());
  }
  return true;
}

Status touch(const Fd& fd) {
  // Windows has no "now as the filesystem sees it": this machine's clock it is. (On a network
  // share that clock may differ from the server's; docs/windows.md.)
  FILETIME now{};
  ::GetSystemTimeAsFileTime(&now);
  if (!::SetFileTime(to_handle(fd.get()), nullptr, nullptr, &now)) {
    return last_system_error("SetFileTime");
  }
  return ok_status();
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
  WIN32_FIND_DATAW found{};
  const HANDLE search = ::FindFirstFileExW(widen(join_path(path, "*")).c_str(), FindExInfoBasic,
                                           &found, FindExSearchNameMatch, nullptr, 0);
  std::vector<std::string> names;
  if (search == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_FILE_NOT_FOUND) {
      return names; // nothing matched at all: an empty root
    }
    return path_error("cannot list", path, err);
  }
  do {
    const std::wstring name = found.cFileName;
    if (name != L"." && name != L"..") {
      names.push_back(narrow(name));
    }
  } while (::FindNextFileW(search, &found));
  const DWORD err = ::GetLastError();
  ::FindClose(search);
  if (err != ERROR_NO_MORE_FILES) {
    return path_error("cannot list", path, err);
  }
  return names;
}

std::string join_path(const std::string& directory, const std::string& name) {
  if (directory.empty() || is_separator(directory.back()) ||
      (directory.size() == 2 && directory[1] == ':')) {
    return directory + name;
  }
  return directory + "\\" + name;
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  const auto separator = path.find_last_of("/\\");
  if (separator == std::string::npos) {
    if (path.size() >= 2 && path[1] == ':') {
      return {path.substr(0, 2), path.substr(2)}; // "C:name", relative to C:'s current directory
    }
    return {".", path};
  }
  // Keep the separator of a root: "\b" -> "\", "C:\b" -> "C:\".
  const bool root = separator == 0 || (separator == 2 && path[1] == ':');
  return {path.substr(0, root ? separator + 1 : separator), path.substr(separator + 1)};
}

Result<std::string> user_cache_directory() {
  // %LOCALAPPDATA%: per user and per machine (never roamed to other machines, where a pid means
  // nothing), private by its ACL. The wide environment: the ANSI one garbles non-ASCII names.
  const wchar_t* local = ::_wgetenv(L"LOCALAPPDATA");
  if (local == nullptr || *local == L'\0') {
    return Error{ErrorKind::usage, "LOCALAPPDATA is not set"};
  }
  return narrow(local);
}

} // namespace buildlock::os
