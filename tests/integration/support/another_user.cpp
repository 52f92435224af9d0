#include "support/another_user.h"

#include "support/binaries.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace buildlock::test {
namespace {

// Owns the directory of copies: /tmp/buildlock-test-programs-XXXXXX, mode 0755, removed with
// everything in it when the test program exits (a static object's destructor).
class ReachableCopies {
public:
  ReachableCopies() {
    std::string pattern = "/tmp/buildlock-test-programs-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    folder_ = pattern;
    std::filesystem::permissions(
        folder_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                     std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                     std::filesystem::perms::others_exec);
  }
  ~ReachableCopies() {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }
  ReachableCopies(const ReachableCopies&) = delete;
  ReachableCopies& operator=(const ReachableCopies&) = delete;

  const std::string& copy_of(const std::string& program) {
    const std::lock_guard lock(mutex_);
    const auto found = copies_.find(program);
    if (found != copies_.end()) {
      return found->second;
    }
    const std::string copy = folder_ + "/" + std::filesystem::path(program).filename().string();
    std::filesystem::copy_file(program, copy, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(
        copy, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
    return copies_.emplace(program, copy).first->second;
  }

private:
  std::string folder_;
  std::mutex mutex_;
  std::map<std::string, std::string> copies_;
};

ReachableCopies& reachable_copies() {
  static ReachableCopies copies;
  return copies;
}

bool is_program_of_this_build(const std::string& argument) {
  for (const std::string* program : {&buildlock_binary(), &scripted_command_binary(),
                                     &critical_section_binary(), &group_section_binary()}) {
    if (argument == *program) {
      return true;
    }
  }
  return false;
}

} // namespace

const std::string& reachable_copy(const std::string& program) {
  return reachable_copies().copy_of(program);
}

Command as_unprivileged_user(const Command& command) {
  if (::geteuid() != 0) {
    return command;
  }
  std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   "--"};
  for (const std::string& argument : command.argv()) {
    argv.push_back(is_program_of_this_build(argument) ? reachable_copy(argument) : argument);
  }
  Command unprivileged(std::move(argv));
  for (const char* variable :
       {"BUILDLOCK_DIR", "BUILDLOCK_TIMEOUT", "BUILDLOCK_STALE_AFTER", "BUILDLOCK_HELD"}) {
    unprivileged.unset_env(variable);
  }
  return unprivileged;
}

} // namespace buildlock::test
