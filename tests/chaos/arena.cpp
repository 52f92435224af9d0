#include "arena.h"

#include <filesystem>
#include <random>

namespace buildlock::chaos {

std::string Arena::stderr_path(int worker) const {
  return folder + "/worker-" + std::to_string(worker) + ".err";
}

Arena make_arena(const std::string& work_dir, Variant variant, KernelLocks kernel_locks,
                 const std::string& etcd) {
  Arena arena;
  arena.folder = work_dir + "/" + to_string(variant) + "-kernel-locks-" + to_string(kernel_locks);
  std::filesystem::remove_all(arena.folder);
  arena.lock_dir = arena.folder + "/locks";
  if (!etcd.empty()) {
    arena.lock_dir =
        etcd + "/chaos-" + to_string(variant) + "-" + std::to_string(std::random_device{}());
  }
  arena.detectors = arena.folder + "/detectors";
  arena.log = arena.folder + "/critical-sections.log";
  std::filesystem::create_directories(arena.detectors);
  return arena;
}

} // namespace buildlock::chaos
