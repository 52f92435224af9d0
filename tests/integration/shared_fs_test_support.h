// What the shared-filesystem tests (issue 6) share: lock files as holders on other hosts and in
// other containers write them, and real processes in another PID namespace.
//
// Another host has another boot id and host name; another container on this kernel has this boot
// id and another PID namespace. Their pids mean nothing here, so the crafted pids are chosen to
// mislead: alive here when the lock must be reclaimed, dead here when it must be left alone.
#pragma once

#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/skip_or_fail.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace buildlock::test {

inline constexpr const char* other_host_name = "build-host-7.example";

// A PID namespace that is certainly not this process's (same format, another inode number).
inline std::string other_pid_namespace() {
  std::string ns = this_pid_namespace();
  const auto digit = ns.find_first_of("0123456789");
  ns[digit] = ns[digit] == '9' ? '8' : '9';
  return ns;
}

// What a holder with pid `pid` on another host writes.
inline HolderMetadata metadata_from_other_host(pid_t pid) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.pid = pid;
  metadata.start_time = 123456;
  metadata.boot_id = other_boot_id();
  // Every Linux host's initial PID namespace has this inode number, often ours too: equal
  // namespace text on another kernel must not make its pid checkable here.
  metadata.pid_namespace = "pid:[4026531836]";
  metadata.host = other_host_name;
  metadata.command = {"make", "-C", "on-another-host"};
  return metadata;
}

// What a holder with pid `pid` in another container on this kernel writes (the container's own
// host name, as Docker gives each container).
inline HolderMetadata metadata_from_other_container(pid_t pid) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.pid = pid;
  metadata.start_time = process_start_time(pid).value_or(987654);
  metadata.pid_namespace = other_pid_namespace();
  metadata.host = "container-3f2a";
  metadata.command = {"make", "-C", "in-another-container"};
  return metadata;
}

// The JSON of a holder that runs with --kernel-locks off (or on a filesystem without flock):
// `"kernel_lock":false` tells observers that its free kernel lock proves nothing.
inline std::string without_kernel_lock(const HolderMetadata& metadata) {
  auto document = nlohmann::json::parse(to_json(metadata));
  document["kernel_lock"] = false;
  return document.dump() + "\n";
}

// A command with the developer's BUILDLOCK_* settings unset, as IntegrationTest::program() makes.
inline Command without_buildlock_settings(std::vector<std::string> argv) {
  Command command(std::move(argv));
  for (const char* variable : {"BUILDLOCK_DIR", "BUILDLOCK_TIMEOUT", "BUILDLOCK_STALE_AFTER",
                               "BUILDLOCK_HELD", "BUILDLOCK_KERNEL_LOCKS"}) {
    command.unset_env(variable);
  }
  return command;
}

// Empty when this machine lets us run `unshare --pid --fork --mount-proc` (root, or a user
// namespace allowed to); otherwise exactly why not, for SKIP_OR_FAIL_IN_CI.
inline std::string why_no_pid_namespaces() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::_exit(::unshare(CLONE_NEWPID | CLONE_NEWNS) == 0 ? 0 : errno);
  }
  int raw = 0;
  if (child < 0 || ::waitpid(child, &raw, 0) != child) {
    return std::string("fork: ") + std::strerror(errno);
  }
  if (!WIFEXITED(raw) || WEXITSTATUS(raw) != 0) {
    return std::string("unshare(CLONE_NEWPID | CLONE_NEWNS): ") +
           (WIFEXITED(raw) ? std::strerror(WEXITSTATUS(raw)) : "the probe died");
  }
  Finished probe =
      run(without_buildlock_settings({"unshare", "--pid", "--fork", "--mount-proc", "true"}));
  if (probe.status != ExitStatus::exited(0)) {
    return "`unshare --pid --fork --mount-proc true` (util-linux) failed with " +
           describe(probe.status) + ": " + probe.err;
  }
  return {};
}

// ARGV run as the first process of a new PID namespace with its own /proc, as in a container on
// this kernel. When the returned command's process (unshare) dies, the kernel kills everything
// in that namespace (--kill-child), so a test can end the whole "container" with one SIGKILL.
inline Command in_new_pid_namespace(const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"unshare", "--pid", "--fork", "--mount-proc", "--kill-child"};
  full.insert(full.end(), argv.begin(), argv.end());
  return without_buildlock_settings(std::move(full));
}

} // namespace buildlock::test
