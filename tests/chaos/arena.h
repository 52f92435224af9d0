// Where one variant's chaos happens: its lock directory, the critical sections' detectors and log,
// and the wrappers' captured stderr, all inside one folder of the work directory.
#pragma once

#include "options.h"
#include "users.h"

#include <string>
#include <vector>

namespace buildlock::chaos {

struct Arena {
  std::string folder;    // work_dir/<variant>-kernel-locks-<setting>
  std::string lock_dir;  // --dir of every buildlock
  std::string detectors; // chaos_holder's detector files (never inside the lock directory)
  std::string log;       // the critical sections' append-only log
  std::string lock_name = "chaos";
  // The write end of a pipe every wrapper gets as descriptor 3 and passes on to its command (like
  // any descriptor that is not close-on-exec): once the chaos is over and this process has closed
  // its own copy, end-of-file on the read end means that every wrapper and every command, orphans
  // of killed wrappers included, has exited.
  int liveness_fd = -1;
  // --users: worker i runs as users[i % size]; empty: every worker as this process's user.
  std::vector<RunAs> users;

  std::string stderr_path(int worker) const;
};

// Creates a fresh folder for the variant with an empty detectors folder (the lock directory is
// left to buildlock to create). With `etcd` ("etcd://HOST:PORT"), the locks are held there under
// a prefix named after the folder and a random tag (no key of an earlier run is in the way).
// With `users`, the lock directory (a 2770 group directory, made here), the detectors and the log
// are in the users' reachable directory instead, every file the holders write made writable for
// all of them.
Arena make_arena(const std::string& work_dir, Variant variant, KernelLocks kernel_locks,
                 const std::string& etcd, const Users* users);

} // namespace buildlock::chaos
