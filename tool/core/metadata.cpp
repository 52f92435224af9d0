#include "core/metadata.h"

#include "core/lock_name.h"

#include <nlohmann/json.hpp>

namespace buildlock::core {
namespace {

using nlohmann::json;

// Deeper JSON than this is not metadata; stop before building a huge tree.
constexpr int max_json_depth = 8;

struct TooDeep {};

Error unusable(const std::string& why) {
  return Error{ErrorKind::lock_directory, why};
}

Result<LockMode> parse_mode(const std::string& text) {
  for (LockMode mode : {LockMode::exclusive, LockMode::shared, LockMode::slots}) {
    if (text == mode_name(mode)) {
      return mode;
    }
  }
  return unusable("field `mode` is `" + text.substr(0, 40) + "`, not exclusive, shared or slots");
}

// The command is for people, and a link step's can be megabytes: recording it whole would make
// the metadata too large for every reader (max_metadata_bytes), and its lock could then be
// judged by age only. At most this many bytes of arguments are kept (JSON escaping at most
// sextuples them, still well within the limit), then a note of how many were left out.
constexpr std::size_t max_command_bytes = std::size_t{8} * 1024;

std::vector<std::string> command_for_metadata(const std::vector<std::string>& command) {
  std::size_t total = 0;
  for (const std::string& argument : command) {
    total += argument.size();
  }
  if (total <= max_command_bytes) {
    return command;
  }
  // Cut so that what is kept, the "..." and the note fit the budget together: a command read
  // back from a lock file is then recorded unchanged (serialising is idempotent).
  constexpr std::size_t note_reserve = 48; // "... (<up to 20 digits> more arguments)"
  std::size_t available = max_command_bytes - note_reserve;
  std::vector<std::string> kept;
  std::size_t i = 0;
  for (; i < command.size() && command[i].size() <= available; ++i) {
    kept.push_back(command[i]);
    available -= command[i].size();
  }
  if (i < command.size() && available > 3) {
    kept.push_back(command[i].substr(0, available - 3) + "...");
    ++i;
  }
  if (i < command.size()) {
    kept.push_back("... (" + std::to_string(command.size() - i) + " more arguments)");
  }
  return kept;
}

} // namespace

std::string_view mode_name(LockMode mode) {
  switch (mode) {
  case LockMode::exclusive:
    return "exclusive";
  case LockMode::shared:
    return "shared";
  case LockMode::slots:
    return "slots";
  }
  return "exclusive";
}

std::string serialize_metadata(const LockMetadata& metadata) {
  const bool exclusive = metadata.mode == LockMode::exclusive;
  json document = {
      {"format", metadata_format},
      {"version", exclusive ? metadata_version_exclusive : metadata_version_modes},
      {"mode", mode_name(metadata.mode)},
      {"pid", metadata.pid},
      {"start_time", metadata.start_time ? json(*metadata.start_time) : json(nullptr)},
      {"boot_id", metadata.boot_id},
      {"pid_namespace", metadata.pid_namespace},
      {"host", metadata.host},
      {"user", metadata.user},
      {"uid", metadata.uid ? json(*metadata.uid) : json(nullptr)},
      {"command", command_for_metadata(metadata.command)},
      {"acquired_at", metadata.acquired_at},
  };
  if (metadata.mode == LockMode::slots) {
    document["slots"] = metadata.slots;
  }
  if (!metadata.kernel_lock) {
    document["kernel_lock"] = false;
  }
  // Command arguments and host names are bytes, not necessarily UTF-8; they are informational,
  // so replace what JSON cannot carry instead of failing to take the lock.
  return document.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<LockMetadata> parse_metadata(std::string_view bytes) {
  if (bytes.empty()) {
    return unusable("empty");
  }
  if (bytes.size() > max_metadata_bytes) {
    return unusable("larger than " + std::to_string(max_metadata_bytes) + " bytes");
  }
  json document;
  try {
    document = json::parse(bytes.begin(), bytes.end(), [](int depth, json::parse_event_t, json&) {
      if (depth > max_json_depth) {
        throw TooDeep{};
      }
      return true;
    });
  } catch (const TooDeep&) {
    return unusable("JSON nested deeper than " + std::to_string(max_json_depth) + " levels");
  } catch (const json::exception& error) {
    return unusable(std::string("not JSON: ") + error.what());
  }
  if (!document.is_object()) {
    return unusable("not a JSON object");
  }
  auto field = [&](const char* name) -> const json* {
    auto it = document.find(name);
    return it == document.end() ? nullptr : &*it;
  };
  const json* format = field("format");
  if (format == nullptr || !format->is_string() || format->get<std::string>() != metadata_format) {
    return unusable("not buildlock metadata (no `\"format\": \"buildlock\"`)");
  }
  const json* version = field("version");
  if (version == nullptr || !version->is_number_integer()) {
    return unusable("field `version` is missing or not an integer");
  }
  const std::int64_t version_number = version->get<std::int64_t>();
  if (version_number != metadata_version_exclusive && version_number != metadata_version_modes) {
    return unusable("written by protocol version " + version->dump() +
                    ", this buildlock reads versions " +
                    std::to_string(metadata_version_exclusive) + " and " +
                    std::to_string(metadata_version_modes));
  }

  LockMetadata metadata;
  std::string mode_text = "exclusive";
  auto required_string = [&](const char* name, std::string& out) -> Status {
    const json* value = field(name);
    if (value == nullptr || !value->is_string()) {
      return unusable(std::string("field `") + name + "` is missing or not a string");
    }
    out = value->get<std::string>();
    return ok_status();
  };
  auto optional_string = [&](const char* name, std::string& out) -> Status {
    const json* value = field(name);
    if (value == nullptr || value->is_null()) {
      return ok_status();
    }
    if (!value->is_string()) {
      return unusable(std::string("field `") + name + "` is not a string");
    }
    out = value->get<std::string>();
    return ok_status();
  };
  for (auto status : {required_string("boot_id", metadata.boot_id),
                      required_string("host", metadata.host), optional_string("mode", mode_text),
                      optional_string("pid_namespace", metadata.pid_namespace),
                      optional_string("user", metadata.user),
                      optional_string("acquired_at", metadata.acquired_at)}) {
    if (!status.ok()) {
      return status.error();
    }
  }

  auto mode = parse_mode(mode_text);
  if (!mode) {
    return mode.error();
  }
  metadata.mode = *mode;
  if (metadata.mode != LockMode::exclusive && version_number < metadata_version_modes) {
    return unusable("mode `" + mode_text + "` in protocol version 1 metadata");
  }
  if (metadata.mode == LockMode::slots) {
    const json* slots = field("slots");
    if (slots == nullptr || !slots->is_number_integer() || slots->get<std::int64_t>() < 1 ||
        slots->get<std::int64_t>() > max_slots) {
      return unusable("field `slots` is missing or not an integer from 1 to " +
                      std::to_string(max_slots));
    }
    metadata.slots = static_cast<int>(slots->get<std::int64_t>());
  }

  if (const json* kernel_lock = field("kernel_lock");
      kernel_lock != nullptr && !kernel_lock->is_null()) {
    if (!kernel_lock->is_boolean()) {
      return unusable("field `kernel_lock` is not true or false");
    }
    metadata.kernel_lock = kernel_lock->get<bool>();
  }

  const json* pid = field("pid");
  if (pid == nullptr || !pid->is_number_integer()) {
    return unusable("field `pid` is missing or not an integer");
  }
  metadata.pid = pid->get<std::int64_t>();
  if (metadata.pid <= 0) {
    // dump(): an unsigned value beyond int64 must be shown as written, not as its wrapped value.
    return unusable("field `pid` is " + pid->dump() + ", not a process id");
  }
  if (const json* start = field("start_time"); start != nullptr && !start->is_null()) {
    if (!start->is_number_unsigned()) {
      return unusable("field `start_time` is not a non-negative integer");
    }
    metadata.start_time = start->get<std::uint64_t>();
  }
  if (const json* uid = field("uid"); uid != nullptr && !uid->is_null()) {
    if (!uid->is_number_integer()) {
      return unusable("field `uid` is not an integer");
    }
    metadata.uid = uid->get<std::int64_t>();
  }
  if (const json* command = field("command"); command != nullptr && !command->is_null()) {
    if (!command->is_array()) {
      return unusable("field `command` is not an array");
    }
    for (const json& argument : *command) {
      if (!argument.is_string()) {
        return unusable("field `command` holds a non-string");
      }
      metadata.command.push_back(argument.get<std::string>());
    }
  }
  return metadata;
}

} // namespace buildlock::core
