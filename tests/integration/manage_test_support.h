// What the `status`, `clean` and `break` tests share: running those subcommands on the test's
// lock directory, crafting the lock files that each state and reason comes from, a live holder
// (a real `buildlock run`), and checking JSON objects against the documented schema
// (docs/managing-locks.md).
#pragma once

#include "support/another_user.h"
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pipe.h"
#include "support/process.h"

#include <algorithm>
#include <csignal>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace buildlock::test {

using nlohmann::json;

// A lock held for real: `buildlock run LOCK -- scripted_command notify 3 wait 4`, started and
// known to be running its command (so the lock exists) when the constructor returns.
class LiveHolder {
public:
  LiveHolder(const Command& run_command, const std::string& lock) : lock_(lock) {
    Command command = run_command;
    command.pass_fd(3, running_.write_fd()).pass_fd(4, release_.read_fd());
    process_.emplace(command.start());
    running_.close_write();
    release_.close_read();
    EXPECT_TRUE(running_.receives_byte(10s)) << "the holder of `" << lock << "` never ran";
  }

  Process& process() { return *process_; }
  pid_t pid() const { return process_->pid(); }

  // kill -9 of buildlock and its command (a holder started in its own process group), returning
  // once both are gone: the command holds the pipe's write end until it dies, and with it the
  // lock's kernel lock, which may outlive buildlock by a moment.
  ExitStatus kill_everything() {
    kill_job_with_sigkill(*process_);
    ExitStatus status = process_->wait(10s);
    EXPECT_EQ(running_.read_to_end(10s), std::string())
        << "the command of `" << lock_ << "` outlived the kill";
    return status;
  }

  // Lets the command end; returns how `buildlock run` ended, its stderr in `err`.
  ExitStatus release(std::string* err = nullptr) {
    release_.write_byte();
    ExitStatus status = process_->wait(10s);
    if (err != nullptr) {
      *err = process_->stderr_text();
    }
    return status;
  }

private:
  std::string lock_;
  Pipe running_;
  Pipe release_;
  std::optional<Process> process_;
};

class ManageLocksTest : public IntegrationTest {
protected:
  // `buildlock SUBCOMMAND --dir <lock_dir> ARGUMENTS...`
  Command manage(const std::string& subcommand, std::vector<std::string> arguments = {}) const {
    arguments.insert(arguments.begin(), {subcommand, "--dir", lock_dir});
    return buildlock(std::move(arguments));
  }

  // The command a LiveHolder runs.
  static std::vector<std::string> holder_command() {
    return scripted({"notify", "3", "wait", "4"});
  }
  // `options`: `--shared`, `--slots N`, ...
  LiveHolder hold(const std::string& lock, std::vector<std::string> options = {}) const {
    return LiveHolder(run_under_lock(lock, holder_command(), std::move(options)), lock);
  }

  // Runs a subcommand that prints JSON and returns the parsed document; the test fails when the
  // exit status is not `expected` or stdout is not one line of JSON.
  json json_from(const Command& command, int expected = 0) const {
    Finished finished = run(command);
    EXPECT_EQ(finished.status, ExitStatus::exited(expected)) << finished.err;
    EXPECT_TRUE(!finished.out.empty() && finished.out.back() == '\n' &&
                finished.out.find('\n') == finished.out.size() - 1)
        << "not one line:\n"
        << finished.out;
    try {
      return json::parse(finished.out);
    } catch (const json::exception& error) {
      ADD_FAILURE() << "stdout is not JSON (" << error.what() << "):\n" << finished.out;
      return json::array();
    }
  }

  json status_json(std::vector<std::string> arguments = {}) const {
    arguments.insert(arguments.begin(), "--json");
    return json_from(manage("status", std::move(arguments)));
  }

  // The one object for lock `name` in a status array (a failure and null when not exactly one).
  static json object_for(const json& array, const std::string& name) {
    json found;
    int count = 0;
    for (const json& object : array) {
      if (object.value("name", "") == name) {
        found = object;
        ++count;
      }
    }
    EXPECT_EQ(count, 1) << "objects named `" << name << "` in " << array.dump(2);
    return found;
  }

  // A lock file as the holder described by `metadata` would have left it.
  void craft_lock(const std::string& name, const HolderMetadata& metadata,
                  std::optional<WallClock::time_point> mtime = std::nullopt) const {
    make_lock_dir();
    write_lock_file(lock_path(name), to_json(metadata), mtime);
  }

  // A holder that has exited: its pid was reaped, so nobody holds its kernel lock.
  static HolderMetadata dead_holder() { return metadata_for_local_process(reaped_pid()); }

  // A holder on another machine (another host name and boot id).
  static HolderMetadata holder_on_other_host() {
    HolderMetadata metadata = metadata_for_local_process(::getpid());
    metadata.host = "elsewhere.example";
    metadata.boot_id = other_boot_id();
    metadata.start_time.reset();
    return metadata;
  }
};

// Every field of the object for one file in `status --json` and `clean --json` (schema_version 1)
// with the JSON types it may have; `extra_fields` are the ones the command adds.
inline void expect_status_schema(const json& object,
                                 const std::vector<std::string>& extra_fields = {}) {
  const std::map<std::string, std::vector<json::value_t>> fields = {
      {"schema_version", {json::value_t::number_unsigned, json::value_t::number_integer}},
      {"kind", {json::value_t::string}},
      {"name", {json::value_t::string}},
      {"path", {json::value_t::string}},
      {"state", {json::value_t::string}},
      {"reason", {json::value_t::string}},
      {"explanation", {json::value_t::string}},
      {"judged_by", {json::value_t::string, json::value_t::null}},
      {"pid", {json::value_t::number_unsigned, json::value_t::number_integer, json::value_t::null}},
      {"host", {json::value_t::string, json::value_t::null}},
      {"user", {json::value_t::string, json::value_t::null}},
      {"uid", {json::value_t::number_unsigned, json::value_t::number_integer, json::value_t::null}},
      {"command", {json::value_t::array, json::value_t::null}},
      {"acquired_at", {json::value_t::string, json::value_t::null}},
      {"age_seconds",
       {json::value_t::number_float, json::value_t::number_unsigned, json::value_t::number_integer,
        json::value_t::null}},
      {"held_seconds",
       {json::value_t::number_float, json::value_t::number_unsigned, json::value_t::number_integer,
        json::value_t::null}},
      {"stale_in_seconds",
       {json::value_t::number_float, json::value_t::number_unsigned, json::value_t::number_integer,
        json::value_t::null}},
      {"metadata_error", {json::value_t::string, json::value_t::null}},
      {"mode", {json::value_t::string, json::value_t::null}},
      {"slots",
       {json::value_t::number_unsigned, json::value_t::number_integer, json::value_t::null}},
      {"slot",
       {json::value_t::number_unsigned, json::value_t::number_integer, json::value_t::null}},
      {"kept_by", {json::value_t::array}},
  };
  ASSERT_TRUE(object.is_object()) << object.dump();
  EXPECT_EQ(object.size(), fields.size() + extra_fields.size()) << object.dump(2);
  for (const auto& [key, types] : fields) {
    ASSERT_TRUE(object.contains(key)) << "no `" << key << "` in " << object.dump(2);
    const auto type = object.at(key).type();
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end())
        << "`" << key << "` has type " << object.at(key).type_name() << " in " << object.dump(2);
  }
  for (const auto& key : extra_fields) {
    EXPECT_TRUE(object.contains(key)) << "no `" << key << "` in " << object.dump(2);
  }
  EXPECT_EQ(object.value("schema_version", 0), 1);
  if (object.contains("command") && object["command"].is_array()) {
    for (const json& argument : object["command"]) {
      EXPECT_TRUE(argument.is_string()) << object.dump(2);
    }
  }
}

// A lock's object in `status --json`: one file's fields plus its `holders`, each one file's
// object.
inline void expect_lock_schema(const json& object) {
  expect_status_schema(object, {"holders"});
  ASSERT_TRUE(object.contains("holders") && object["holders"].is_array()) << object.dump(2);
  EXPECT_EQ(object["kind"], "lock");
  for (const json& holder : object["holders"]) {
    expect_status_schema(holder);
    EXPECT_EQ(holder["name"], object["name"]) << holder.dump(2);
  }
}

// Restores a path's permission bits when a test that changed them ends (so that the TempDir
// can be removed even when not running as root).
class ModeRestorer {
public:
  ModeRestorer(std::string path, mode_t mode) : path_(std::move(path)) {
    struct stat info {};
    ::lstat(path_.c_str(), &info);
    original_ = info.st_mode & 07777;
    EXPECT_EQ(::chmod(path_.c_str(), mode), 0) << "chmod " << path_;
  }
  ~ModeRestorer() { ::chmod(path_.c_str(), original_); }
  ModeRestorer(const ModeRestorer&) = delete;
  ModeRestorer& operator=(const ModeRestorer&) = delete;

private:
  std::string path_;
  mode_t original_ = 0;
};

} // namespace buildlock::test
