#include "os/open_files.h"

#include "os/posix/directory_stream.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace buildlock::os {
namespace {

bool is_number(const char* name) {
  return *name != '\0' &&
         std::all_of(name, name + std::char_traits<char>::length(name),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool has_open(const std::string& fd_directory, const FileIdentity& file) {
  DirectoryStream fds(fd_directory);
  if (!fds.is_open()) {
    return false; // gone, or another user's: not visible
  }
  while (const auto name = fds.next()) {
    struct stat info {};
    // stat() follows /proc/PID/fd/N to the open file itself, even when its name was removed.
    if (is_number(name->c_str()) && ::stat((fd_directory + "/" + *name).c_str(), &info) == 0 &&
        static_cast<std::uint64_t>(info.st_dev) == file.device &&
        static_cast<std::uint64_t>(info.st_ino) == file.inode) {
      return true;
    }
  }
  return false;
}

// The processes asleep in flock() on `file`, waiting for its lock: they have it open too, but
// hold nothing (/proc/locks marks their requests with "->"). Lines look like
// "3: -> FLOCK  ADVISORY  WRITE 1283 fd:01:5511 0 EOF": major and minor in hex, then the inode.
std::vector<long long> processes_waiting_for(const FileIdentity& file) {
  std::vector<long long> waiting;
  std::ifstream locks("/proc/locks");
  std::string line;
  const std::string device = [&] {
    char text[32];
    std::snprintf(text, sizeof text, "%02x:%02x:", major(static_cast<dev_t>(file.device)),
                  minor(static_cast<dev_t>(file.device)));
    return std::string(text) + std::to_string(file.inode);
  }();
  while (std::getline(locks, line)) {
    std::istringstream words(line);
    std::string id, arrow, kind, advisory, mode, where;
    long long pid = 0;
    if (words >> id >> arrow && arrow == "->" &&
        words >> kind >> advisory >> mode >> pid >> where && where == device) {
      waiting.push_back(pid);
    }
  }
  return waiting;
}

std::string command_line_of(const std::string& process_directory) {
  std::ifstream in(process_directory + "/cmdline", std::ios::binary);
  std::string words((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!words.empty() && words.back() == '\0') {
    words.pop_back();
  }
  std::replace(words.begin(), words.end(), '\0', ' ');
  return words;
}

} // namespace

std::vector<ProcessWithFile> processes_with_file_open(const FileIdentity& file) {
  std::vector<ProcessWithFile> found;
  const std::vector<long long> waiting = processes_waiting_for(file);
  ProcessDirectory proc;
  if (!proc.is_open()) {
    return found;
  }
  while (const auto pid = proc.next_pid()) {
    // Not this process: the one asking has the file open to inspect it.
    if (*pid == ::getpid() || std::find(waiting.begin(), waiting.end(), *pid) != waiting.end()) {
      continue;
    }
    const std::string process_directory = "/proc/" + std::to_string(*pid);
    if (has_open(process_directory + "/fd", file)) {
      found.push_back({*pid, command_line_of(process_directory)});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const ProcessWithFile& a, const ProcessWithFile& b) { return a.pid < b.pid; });
  return found;
}

} // namespace buildlock::os
