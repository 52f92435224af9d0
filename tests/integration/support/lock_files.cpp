#include "support/lock_files.h"

#include "support/process.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

std::runtime_error system_failure(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::string utc_timestamp(WallClock::time_point when) {
  const std::time_t seconds = WallClock::to_time_t(when);
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S.000Z", &parts);
  return buffer;
}

timespec to_timespec(WallClock::time_point when) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

} // namespace

std::string this_boot_id() {
  return first_line("/proc/sys/kernel/random/boot_id");
}

std::string this_pid_namespace() {
  char buffer[256];
  const ssize_t n = ::readlink("/proc/self/ns/pid", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

std::string this_host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::optional<std::uint64_t> process_start_time(pid_t pid) {
  const std::string line = first_line("/proc/" + std::to_string(pid) + "/stat");
  const auto close = line.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  // Fields after "(comm)" start at field 3 (state); the start time is field 22.
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  for (int number = 3; number < 22; ++number) {
    fields >> field;
  }
  std::uint64_t start = 0;
  if (!(fields >> start)) {
    return std::nullopt;
  }
  return start;
}

WallClock::time_point boot_time() {
  std::ifstream file("/proc/uptime");
  double uptime_seconds = 0;
  file >> uptime_seconds;
  return WallClock::now() - std::chrono::duration_cast<WallClock::duration>(
                                std::chrono::duration<double>(uptime_seconds));
}

std::string other_boot_id() {
  std::string id = this_boot_id();
  // Flip the first hex digit: a well-formed boot id that is certainly different.
  id[0] = id[0] == '0' ? '1' : '0';
  return id;
}

HolderMetadata metadata_for_local_process(pid_t pid) {
  HolderMetadata metadata;
  metadata.pid = pid;
  metadata.start_time = process_start_time(pid);
  metadata.boot_id = this_boot_id();
  metadata.pid_namespace = this_pid_namespace();
  metadata.host = this_host_name();
  metadata.uid = ::getuid();
  const passwd* entry = ::getpwuid(::getuid());
  metadata.user = entry != nullptr ? entry->pw_name : std::to_string(::getuid());
  metadata.command = {"crafted-by-test", "--pid", std::to_string(pid)};
  metadata.acquired_at = utc_timestamp(WallClock::now());
  return metadata;
}

std::string to_json(const HolderMetadata& metadata) {
  using nlohmann::json;
  json document = {
      {"format", metadata.format},
      {"version", metadata.version},
      {"mode", metadata.mode},
      {"pid", metadata.pid},
      {"start_time", metadata.start_time ? json(*metadata.start_time) : json(nullptr)},
      {"boot_id", metadata.boot_id},
      {"pid_namespace", metadata.pid_namespace},
      {"host", metadata.host},
      {"user", metadata.user},
      {"uid", metadata.uid ? json(*metadata.uid) : json(nullptr)},
      {"command", metadata.command},
      {"acquired_at", metadata.acquired_at},
  };
  if (metadata.slots) {
    document["slots"] = *metadata.slots;
  }
  return document.dump() + "\n";
}

HolderMetadata as_shared(HolderMetadata metadata) {
  metadata.version = 2;
  metadata.mode = "shared";
  metadata.slots.reset();
  return metadata;
}

HolderMetadata as_slots(HolderMetadata metadata, int slots) {
  metadata.version = 2;
  metadata.mode = "slots";
  metadata.slots = slots;
  return metadata;
}

HeldFileLock::HeldFileLock(const std::string& path, Mode mode) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0) {
    throw system_failure("open " + path);
  }
  if (::flock(fd_, (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    const auto failure = system_failure("flock " + path);
    ::close(fd_);
    throw failure;
  }
}

HeldFileLock::~HeldFileLock() {
  release();
}

void HeldFileLock::release() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

pid_t reaped_pid() {
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw system_failure("fork");
  }
  if (pid == 0) {
    ::_exit(0);
  }
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0) {
    if (errno != EINTR) {
      throw system_failure("waitpid");
    }
  }
  return pid;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file.flush()) {
    throw std::runtime_error("cannot write " + path);
  }
}

void write_lock_file(const std::string& path, const std::string& bytes,
                     std::optional<WallClock::time_point> mtime) {
  write_file(path, bytes);
  if (mtime) {
    set_mtime(path, *mtime);
  }
}

void set_mtime(const std::string& path, WallClock::time_point mtime) {
  const timespec times[2] = {to_timespec(mtime), to_timespec(mtime)};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw system_failure("utimensat " + path);
  }
}

WallClock::time_point mtime_of(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    throw system_failure("lstat " + path);
  }
  const auto ns =
      std::chrono::seconds(info.st_mtim.tv_sec) + std::chrono::nanoseconds(info.st_mtim.tv_nsec);
  return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(ns));
}

std::vector<std::string> directory_entries(const std::string& path) {
  // opendir() rather than std::filesystem: only a directory that cannot be opened throws (with
  // its errno); a read that fails, even the first (the directory removed meanwhile), ends the list.
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
  if (dir == nullptr) {
    throw system_failure("opendir " + path);
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool exists_no_follow(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

} // namespace buildlock::test
