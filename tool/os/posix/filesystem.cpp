#include "os/filesystem.h"

#include "os/posix/directory_stream.h"
#include "os/system_error.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::os {
namespace {

EntryType type_of(mode_t mode) {
  if (S_ISREG(mode)) {
    return EntryType::regular;
  }
  if (S_ISDIR(mode)) {
    return EntryType::directory;
  }
  if (S_ISLNK(mode)) {
    return EntryType::symlink;
  }
  if (S_ISFIFO(mode)) {
    return EntryType::fifo;
  }
  if (S_ISSOCK(mode)) {
    return EntryType::socket;
  }
  if (S_ISCHR(mode) || S_ISBLK(mode)) {
    return EntryType::device;
  }
  return EntryType::other;
}

// Nanoseconds since the epoch, saturated: int64 nanoseconds end in the year 2262, and a time past
// that (a file touched by hand, a broken server clock) must read as "far in the future", never
// wrap around to "long ago", which would make a lock judged by its age stale at once. The low end
// is kept well inside the range so that "now minus mtime" cannot overflow either.
std::int64_t saturated_ns(std::int64_t seconds, long nanoseconds) {
  constexpr std::int64_t max_seconds = INT64_MAX / 1'000'000'000 - 1;
  constexpr std::int64_t min_seconds = -max_seconds / 2;
  if (seconds > max_seconds) {
    return max_seconds * 1'000'000'000;
  }
  if (seconds < min_seconds) {
    return min_seconds * 1'000'000'000;
  }
  return seconds * 1'000'000'000 + nanoseconds;
}

std::int64_t mtime_ns_of(const struct stat& st) {
#if defined(__APPLE__)
  return saturated_ns(st.st_mtimespec.tv_sec, st.st_mtimespec.tv_nsec);
#else
  return saturated_ns(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
#endif
}

std::int64_t ctime_ns_of(const struct stat& st) {
#if defined(__APPLE__)
  return saturated_ns(st.st_ctimespec.tv_sec, st.st_ctimespec.tv_nsec);
#else
  return saturated_ns(st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
#endif
}

EntryInfo info_of(const struct stat& st) {
  EntryInfo info;
  info.type = type_of(st.st_mode);
  info.identity = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  info.size = st.st_size;
  info.mtime_ns = mtime_ns_of(st);
  info.ctime_ns = ctime_ns_of(st);
  info.owner_uid = st.st_uid;
  info.mode = st.st_mode & 07777;
  return info;
}

ErrorKind kind_for_path_errno(int err) {
  switch (err) {
  case EACCES:
  case EPERM:
  case EROFS:
  case ENOTDIR:
  case ENOSPC:
  case EDQUOT:
  case ELOOP:
  case ENAMETOOLONG:
  case EISDIR:
    return ErrorKind::lock_directory;
  default:
    return ErrorKind::system;
  }
}

Error path_error(const char* call, const std::string& path, int err) {
  return system_error(std::string(call) + " `" + path + "`", err, kind_for_path_errno(err));
}

// Where opening for writing is refused but reading may still be allowed (EISDIR: a directory
// swapped in after lstat, which the type check then names as such).
bool write_access_refused(int err) {
  return err == EACCES || err == EPERM || err == EROFS || err == ETXTBSY || err == EISDIR;
}

} // namespace

Result<EntryInfo> lstat_entry(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return EntryInfo{};
    }
    return path_error("cannot inspect", path, errno);
  }
  return info_of(st);
}

Result<EntryInfo> stat_entry(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return EntryInfo{};
    }
    return path_error("cannot inspect", path, errno);
  }
  return info_of(st);
}

Result<EntryInfo> fstat_entry(const Fd& fd) {
  return fstat_entry(fd.get());
}

Result<EntryInfo> fstat_entry(NativeHandle fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return last_system_error("fstat");
  }
  return info_of(st);
}

Status make_directories(const std::string& path) {
  if (path.empty()) {
    return Error{ErrorKind::lock_directory, "empty directory path"};
  }
  if (auto existing = stat_entry(path); existing && existing->type == EntryType::directory) {
    return ok_status(); // the common case; also avoids mkdir errors on read-only parents
  }
  // Walk from the top so that every missing level is created; EEXIST races are harmless.
  for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      return path_error("cannot create directory", prefix, errno);
    }
    if (end == std::string::npos) {
      break;
    }
  }
  auto info = stat_entry(path);
  if (!info) {
    return info.error();
  }
  if (info->type != EntryType::directory) {
    return Error{ErrorKind::lock_directory,
                 "`" + path + "` is " + describe(info->type) + ", not a directory"};
  }
  return ok_status();
}

Result<Fd> create_new_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
  if (!fd) {
    return path_error("cannot create", path, errno);
  }
  return fd;
}

Result<std::optional<Fd>> create_new_file_unless_taken(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
  if (!fd) {
    if (errno == EEXIST) {
      return std::optional<Fd>();
    }
    return path_error("cannot create", path, errno);
  }
  return std::optional<Fd>(std::move(fd));
}

Status add_permissions(const Fd& fd, std::uint32_t bits) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return last_system_error("fstat");
  }
  const mode_t wanted = (st.st_mode & 07777) | static_cast<mode_t>(bits & 0777);
  if (wanted != (st.st_mode & 07777) && ::fchmod(fd.get(), wanted) != 0) {
    return last_system_error("fchmod");
  }
  return ok_status();
}

Result<std::optional<Fd>> open_regular_file_if_present(const std::string& path, OpenFor purpose) {
  // O_NONBLOCK: opening a FIFO must never wait for a writer; O_NOFOLLOW: never leave the
  // directory through a link. The type is checked on the open descriptor, so a swap between
  // a check and the open cannot fool us. Never O_CREAT or O_TRUNC: an observer changes nothing.
  constexpr int flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  Fd fd;
  if (purpose == OpenFor::locking) {
    fd.reset(::open(path.c_str(), O_RDWR | flags));
  }
  if (!fd && (purpose == OpenFor::reading || write_access_refused(errno))) {
    fd.reset(::open(path.c_str(), O_RDONLY | flags));
  }
  if (!fd) { // errno is open's: Fd::reset closes nothing when it held no descriptor
    if (errno == ENOENT) {
      return std::optional<Fd>();
    }
    if (errno == ELOOP) {
      return Error{ErrorKind::lock_directory, "`" + path + "` is a symbolic link"};
    }
    return path_error("cannot open", path, errno);
  }
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
    return path_error("cannot open", path, ENOENT);
  }
  return std::move(**fd);
}

Status write_all(const Fd& fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return system_error("write", errno, kind_for_path_errno(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

Result<std::string> read_prefix(const Fd& fd, std::size_t limit, bool& truncated) {
  // Lock files are a few hundred bytes: start small, grow only for the odd large file.
  std::string data(std::min<std::size_t>(limit + 1, 4096), '\0');
  std::size_t done = 0;
  for (;;) {
    if (done == data.size()) {
      if (data.size() > limit) {
        break;
      }
      data.resize(std::min(limit + 1, data.size() * 4));
    }
    const ssize_t n =
        ::pread(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return last_system_error("read");
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  truncated = done > limit;
  data.resize(truncated ? limit : done);
  return data;
}

Result<bool> link_new_name(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    return true;
  }
  if (errno == EEXIST) {
    return false;
  }
  return path_error("cannot create", to, errno);
}

Result<LinkOutcome> link_unless_taken(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    return LinkOutcome::linked;
  }
  if (errno == EEXIST) {
    return LinkOutcome::name_taken;
  }
  if (errno == ENOENT) {
    return LinkOutcome::source_gone;
  }
  if (errno == EPERM) {
    return LinkOutcome::refused;
  }
  return path_error("cannot link", from, errno);
}

Result<bool> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) == 0) {
    return true;
  }
  if (errno == ENOENT) {
    return false;
  }
  return path_error("cannot remove", path, errno);
}

Status touch(const Fd& fd) {
  // A null time means "now" and is set by the filesystem (the server, on NFS), which is exactly
  // the clock that waiters compare against.
  if (::futimens(fd.get(), nullptr) != 0) {
    return last_system_error("futimens");
  }
  return ok_status();
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
  DirectoryStream directory(path);
  if (!directory.is_open()) {
    return path_error("cannot list", path, directory.open_error());
  }
  std::vector<std::string> names;
  while (auto name = directory.next()) {
    names.push_back(std::move(*name));
  }
  if (directory.read_error() != 0) {
    return path_error("cannot list", path, directory.read_error());
  }
  return names;
}

std::string join_path(const std::string& directory, const std::string& name) {
  if (!directory.empty() && directory.back() == '/') {
    return directory + name;
  }
  return directory + "/" + name;
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {".", path};
  }
  return {path.substr(0, slash == 0 ? 1 : slash), path.substr(slash + 1)};
}

Result<std::string> user_cache_directory() {
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache != '\0') {
    return std::string(cache);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return join_path(home, ".cache");
  }
  return Error{ErrorKind::usage, "HOME is not set"};
}

} // namespace buildlock::os
