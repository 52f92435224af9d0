#include "arena.h"

#include <filesystem>
#include <random>

namespace buildlock::chaos {

std::string Arena::stderr_path(int worker) const {
  return folder + "/worker-" + std::to_string(worker) + ".err";
}

Arena make_arena(const std::string& work_dir, Variant variant, KernelLocks kernel_locks,
                 const std::string& etcd, const Users* users) {
  Arena arena;
  const std::string name = to_string(variant) + "-kernel-locks-" + to_string(kernel_locks);
  arena.folder = work_dir + "/" + name;
  std::filesystem::remove_all(arena.folder);
  std::filesystem::create_directories(arena.folder);
  // What the holders write: beside the stderr files, or where the users can reach it.
  const std::string shared = users ? users->reachable_dir + "/" + name : arena.folder;
  arena.lock_dir = shared + "/locks";
  if (!etcd.empty()) {
    arena.lock_dir =
        etcd + "/chaos-" + to_string(variant) + "-" + std::to_string(std::random_device{}());
  }
  arena.detectors = shared + "/detectors";
  arena.log = shared + "/critical-sections.log";
  std::filesystem::remove_all(shared);
  std::filesystem::create_directories(arena.detectors);
  if (users) {
    arena.users = users->users;
    if (etcd.empty()) {
      make_group_directory(*users, arena.lock_dir);
    }
    for (const char* detector : {"census", "writers", "readers", "slots"}) {
      make_shared_file(arena.detectors + "/" + detector);
    }
    make_shared_file(arena.log);
  }
  return arena;
}

} // namespace buildlock::chaos
