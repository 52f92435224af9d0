#include "kernel_view.h"

#include "common/proc_locks.h"
#include "processes.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <tuple>
#include <vector>

namespace buildlock::chaos {
namespace {

std::string first_line_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string command_line_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : text) {
    c = c == '\0' ? ' ' : c;
  }
  return text.substr(0, 160);
}

// A file as /proc/locks names it: device major, minor and inode.
using FileKey = std::tuple<unsigned, unsigned, std::uint64_t>;

// The files of the lock directory -> their names.
std::map<FileKey, std::string> lock_dir_inodes(const std::string& lock_dir) {
  std::map<FileKey, std::string> inodes;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(lock_dir, error)) {
    struct stat info {};
    if (::lstat(entry.path().c_str(), &info) != 0) {
      continue;
    }
    // A claim is a second name of the file it claims: name them all.
    std::string& names = inodes[FileKey{major(info.st_dev), minor(info.st_dev), info.st_ino}];
    names += (names.empty() ? "" : ", ") + entry.path().filename().string();
  }
  return inodes;
}

// The values of the "Name:\tvalue" lines of /proc/PID/status named in `names`, in that order,
// each "?" when the file has none: one read of the file for all of them.
std::vector<std::string> status_fields(const std::string& pid,
                                       const std::vector<std::string>& names) {
  std::vector<std::string> values(names.size(), "?");
  std::ifstream status("/proc/" + pid + "/status");
  for (std::string line; std::getline(status, line);) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (line.rfind(names[i] + ":", 0) == 0) {
        const auto value = line.find_first_not_of(" \t", names[i].size() + 1);
        values[i] = value == std::string::npos ? "?" : line.substr(value);
      }
    }
  }
  return values;
}

std::string describe_process(pid_t pid) {
  const auto stat = stat_of(pid);
  const std::string id = std::to_string(pid);
  if (!stat) {
    return "  " + id + " gone\n";
  }
  const std::vector<std::string> signals = status_fields(id, {"SigPnd", "ShdPnd", "SigBlk"});
  return "  " + id + " ppid " + std::to_string(stat->parent) + " pgid " +
         std::to_string(stat->process_group) + " sid " + std::to_string(stat->session) + " state " +
         stat->state + " wchan " + first_line_of("/proc/" + id + "/wchan") + " pending " +
         signals[0] + "/" + signals[1] + " blocked " + signals[2] + ": " + command_line_of(id) +
         "\n";
}

} // namespace

std::string describe_process_tree(pid_t wrapper) {
  std::string text = describe_process(wrapper);
  for (const Descendant& descendant : descendants_of(wrapper)) {
    text += describe_process(descendant.pid);
  }
  return text;
}

std::string describe_kernel_view(const std::string& lock_dir) {
  std::string text = "kernel locks on files of the lock directory (/proc/locks):\n";
  const auto inodes = lock_dir_inodes(lock_dir);
  std::set<std::string> pids;
  // Held locks and blocked waiters ("N: -> FLOCK ADVISORY WRITE pid dev:inode ...") alike.
  for (const test::ProcLock& lock : test::read_proc_locks()) {
    if (auto found = inodes.find(FileKey{lock.major, lock.minor, lock.inode});
        found != inodes.end()) {
      text += "  " + lock.line + "   " + found->second + "\n";
      pids.insert(std::to_string(lock.pid));
    }
  }
  text += "processes with a file of the lock directory open:\n";
  std::error_code error;
  const std::string canonical_dir = std::filesystem::weakly_canonical(lock_dir, error).string();
  for (const auto& process : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid = process.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string open_files;
    std::error_code fd_error;
    for (const auto& fd : std::filesystem::directory_iterator(process.path() / "fd", fd_error)) {
      std::error_code link_error;
      const std::string target = std::filesystem::read_symlink(fd.path(), link_error).string();
      if (!link_error && target.rfind(canonical_dir + "/", 0) == 0) {
        open_files.append(" ")
            .append(fd.path().filename().string())
            .append("=")
            .append(target.substr(canonical_dir.size() + 1));
      }
    }
    if (open_files.empty() && pids.count(pid) == 0) {
      continue;
    }
    text.append("  pid ")
        .append(pid)
        .append(" state ")
        .append(first_line_of(process.path() / "stat").substr(0, 60))
        .append("\n    wchan ")
        .append(first_line_of(process.path() / "wchan"))
        .append(", syscall ")
        .append(first_line_of(process.path() / "syscall"))
        .append("\n    fds")
        .append(open_files)
        .append("\n    cmd ")
        .append(command_line_of(pid))
        .append("\n");
  }
  return text;
}

} // namespace buildlock::chaos
