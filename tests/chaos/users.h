// Two users (issue 20, `--users u1,u2`): the setup docs/cli.md recommends for a lock directory
// shared by several users, a group directory of mode 2770 whose members create their files with
// umask 022 (so each lock file is 0644, writable by its creator only), exercised by workers that
// alternate between the users. The chaos itself runs as root; each worker drops to its user in
// the child, between fork and exec, and so does everything the wrapper starts.
//
// The users (and the group shared by them) are created with useradd/groupadd when absent. What
// they run and write must be reachable by them, wherever the build tree is (a clone in /root is
// 0700): the programs under test are copied into a fresh directory under /tmp (mode 0755), and
// the lock directories, detectors and logs live there too.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::chaos {

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0; // the shared group: primary and only group of every worker
};

struct Users {
  std::vector<RunAs> users; // worker i runs as users[i % size]
  std::string group_name;
  gid_t group = 0;
  std::string reachable_dir; // mkdtemp under /tmp, 0755: the copies and the arenas' shared part
};

// Creates what is missing (users, group, the reachable directory), copies `programs` into the
// reachable directory and returns their new paths in the same order. Throws ChaosError (not
// root, useradd failing, ...): a test asked to run with two users that cannot do so fails.
Users prepare_users(const std::vector<std::string>& names, const std::string& group_name,
                    std::vector<std::string>& programs);

// A directory every user of `users` may enter, and the 2770 group directory the locks live in.
void make_group_directory(const Users& users, const std::string& path);
// A file every user may read and write (the detectors and the log of the critical sections).
void make_shared_file(const std::string& path);

} // namespace buildlock::chaos
