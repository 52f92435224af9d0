#include "setup.h"

#include "process.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace buildlock::bench {

std::vector<std::string> Tool::run(const std::string& lock, const std::vector<std::string>& command,
                                   HoldMode mode) const {
  std::vector<std::string> argv = {executable};
  if (index == buildlock_tool) {
    argv.insert(argv.end(), {"run", "--dir", directory});
    if (mode.kind == HoldMode::shared) {
      argv.emplace_back("--shared");
    } else if (mode.kind == HoldMode::slots) {
      argv.insert(argv.end(), {"--slots", std::to_string(mode.slot_count)});
    }
    argv.insert(argv.end(), {lock, "--"});
  } else {
    if (mode.kind == HoldMode::slots) {
      throw BenchError(label + " has no counting mode (--slots)");
    }
    if (mode.kind == HoldMode::shared) {
      argv.emplace_back("-s");
    }
    argv.push_back(lock_path(lock));
  }
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::string Tool::lock_path(const std::string& lock) const {
  return directory + "/" + lock + (index == buildlock_tool ? ".lock" : "");
}

SpawnOptions Tool::logged(SpawnOptions options) const {
  if (!message_log.empty()) {
    options.stderr_path = message_log;
  }
  return options;
}

std::array<ToolIndex, 2> order_for(int repetition) {
  if (repetition % 2 == 0) {
    return {buildlock_tool, flock_tool};
  }
  return {flock_tool, buildlock_tool};
}

void fresh_directory(const std::string& directory) {
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
}

void add_unrelated_locks(const Setup& setup, int count, const std::string& orphan_bytes) {
  for (int i = 0; i < count; ++i) {
    const std::string name = "unrelated-" + std::to_string(i);
    write_file(setup.tools[buildlock_tool].lock_path(name), orphan_bytes);
    write_file(setup.tools[flock_tool].lock_path(name), "");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw BenchError("cannot read `" + path + "`");
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
  if (!file.flush()) {
    throw BenchError("cannot write `" + path + "`");
  }
}

} // namespace buildlock::bench
