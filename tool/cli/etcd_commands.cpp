#include "cli/etcd_commands.h"

#include "cli/lock_reports.h"
#include "core/lock_name.h"
#include "etcd/acquire.h"
#include "etcd/lease.h"
#include "etcd/survey.h"

#include <memory>

namespace buildlock::cli {
namespace {

using nlohmann::ordered_json;

const core::Seconds etcd_request_timeout = etcd::request_timeout(etcd::default_ttl);

Result<std::unique_ptr<etcd::Client>> client_for(const std::string& location) {
  auto parsed = etcd::parse_location(location);
  if (!parsed) {
    return parsed.error();
  }
  return std::make_unique<etcd::Client>(std::move(*parsed));
}

// `status --json`'s object for a key, with the fields only etcd has (additive).
ordered_json key_json(const etcd::KeyReport& key) {
  ordered_json object = report_json(key.report);
  object["key"] = key.entry.key;
  object["lease"] = etcd::lease_hex(key.entry.lease);
  object["fencing_token"] = key.entry.create_revision;
  object["queue"] = key.holds ? "holds" : "waits";
  return object;
}

std::vector<std::string> row(std::string label, const core::LockReport& report) {
  std::vector<std::string> columns{std::move(label), core::to_string(report.state)};
  for (auto& column : holder_columns(report)) {
    columns.push_back(std::move(column));
  }
  return columns;
}

// Revokes the lease of `key`; reports an error and returns its status when etcd refuses.
int revoke(etcd::Client& client, const etcd::KeyReport& key, const std::string& context) {
  if (auto revoked = etcd::revoke_lease(client, key.entry.lease, etcd_request_timeout); !revoked) {
    return report(std::move(revoked.error()).with(context));
  }
  return 0;
}

} // namespace

int etcd_status(const StatusOptions& options, const std::string& location) {
  const core::Messages messages = options.judging.common.messages();
  for (const std::string& name : options.locks) {
    if (auto valid = core::validate_lock_name(name); !valid) {
      return report(valid.error());
    }
  }
  auto client = client_for(location);
  if (!client) {
    return report(client.error());
  }
  auto surveys = etcd::survey_locks(**client, (*client)->location().prefix, options.locks,
                                    etcd_request_timeout);
  if (!surveys) {
    return report(surveys.error());
  }
  if (options.json) {
    ordered_json array = ordered_json::array();
    for (const etcd::EtcdLockSurvey& survey : *surveys) {
      ordered_json object = report_json(survey.lock);
      object["holders"] = ordered_json::array();
      for (const etcd::KeyReport& key : survey.keys) {
        object["holders"].push_back(key_json(key));
      }
      array.push_back(std::move(object));
    }
    write_output(json_line(array));
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"LOCK", "STATE"}};
  for (auto& title : holder_column_titles()) {
    rows.front().push_back(std::move(title));
  }
  for (const etcd::EtcdLockSurvey& survey : *surveys) {
    rows.push_back(row(survey.lock.name, survey.lock));
    for (const etcd::KeyReport& key : survey.keys) {
      rows.push_back(row("  " + key.report.file_name, key.report));
    }
  }
  if (rows.size() > 1) {
    write_output(format_table(rows));
  } else {
    messages.notice("no locks in `" + location + "`");
  }
  return 0;
}

int etcd_clean(const CleanOptions& options, const std::string& location) {
  const core::Messages messages = options.judging.common.messages();
  auto client = client_for(location);
  if (!client) {
    return report(client.error());
  }
  auto surveys =
      etcd::survey_locks(**client, (*client)->location().prefix, {}, etcd_request_timeout);
  if (!surveys) {
    return report(surveys.error());
  }
  int status = 0;
  ordered_json array = ordered_json::array();
  std::vector<std::vector<std::string>> rows{{"ACTION", "ENTRY"}};
  for (auto& title : holder_column_titles()) {
    rows.front().push_back(std::move(title));
  }
  for (const etcd::EtcdLockSurvey& survey : *surveys) {
    for (const etcd::KeyReport& key : survey.keys) {
      if (key.report.state != core::EntryState::stale) {
        messages.explain("keeping `" + key.entry.key + "`: " + why(key.report));
        continue;
      }
      std::string action = options.dry_run ? "would-remove" : "removed";
      std::string error;
      if (!options.dry_run) {
        if (auto revoked = etcd::revoke_lease(**client, key.entry.lease, etcd_request_timeout);
            !revoked) {
          messages.error("cannot remove stale `" + key.entry.key + "`: " + revoked.error().message);
          status = exit_code_for(revoked.error().kind);
          action = "failed";
          error = revoked.error().message;
        }
      }
      ordered_json object = key_json(key);
      object["action"] = action;
      object["error"] = error.empty() ? ordered_json(nullptr) : ordered_json(error);
      array.push_back(std::move(object));
      std::vector<std::string> line = row(key.entry.key, key.report);
      line.front() = action == "would-remove" ? "would remove" : action;
      line[1] = key.entry.key;
      rows.push_back(std::move(line));
    }
  }
  if (options.json) {
    write_output(json_line(array));
  } else if (rows.size() > 1) {
    write_output(format_table(rows));
  } else {
    messages.notice("nothing to clean in `" + location + "`");
  }
  return status;
}

int etcd_break(const BreakOptions& options, const std::string& location) {
  const core::Messages messages = options.judging.common.messages();
  if (auto valid = core::validate_lock_name(options.lock); !valid) {
    return report(valid.error());
  }
  auto client = client_for(location);
  if (!client) {
    return report(client.error());
  }
  auto surveys = etcd::survey_locks(**client, (*client)->location().prefix, {options.lock},
                                    etcd_request_timeout);
  if (!surveys) {
    return report(surveys.error());
  }
  const std::string quoted = "`" + options.lock + "`";
  std::vector<const etcd::KeyReport*> holders;
  std::vector<const etcd::KeyReport*> live;
  for (const etcd::KeyReport& key : surveys->front().keys) {
    if (key.holds) {
      holders.push_back(&key);
      if (key.report.state == core::EntryState::held) {
        live.push_back(&key);
      }
    }
  }
  if (holders.empty()) {
    messages.notice("lock " + quoted + " is not held (no key): nothing to break");
    return 0;
  }
  if (!live.empty() && !options.force) {
    std::string text = "lock " + quoted + " is held by ";
    for (std::size_t i = 0; i < live.size(); ++i) {
      text += (i == 0 ? "" : "; ") + live[i]->report.holder + " (" + why(live[i]->report) + ")";
    }
    messages.error(text + "; use `buildlock break --force " + options.lock +
                   "` to remove it anyway (its holders keep running, unprotected)");
    return exit_lock_held;
  }
  // The holders only: runs still waiting keep their places and take the lock in order.
  int status = 0;
  for (const etcd::KeyReport* key : holders) {
    if (const int revoked = revoke(**client, *key, "cannot break lock " + quoted); revoked != 0) {
      status = revoked;
      continue;
    }
    if (key->report.state == core::EntryState::held) {
      messages.warning("broke lock " + quoted + " of " + key->report.holder + " (revoked lease " +
                       key->report.file_name + "); that holder is no longer protected by it");
    } else {
      messages.notice("removed stale lock " + quoted + " of " + key->report.holder + ": " +
                      why(key->report));
    }
  }
  return status;
}

} // namespace buildlock::cli
