// What `status`, `clean` and `break` share: how they are told which locks to judge and how, and
// how lock reports are shown to people (an aligned table) and to programs (JSON, schema in
// docs/managing-locks.md).
#pragma once

#include "cli/common_options.h"
#include "core/lock_survey.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace buildlock::cli {

// Version of the objects `status --json` and `clean --json` print, in each object's
// `schema_version` field. Adding a field keeps it; changing or removing one bumps it.
inline constexpr int report_schema_version = 1;

// Options of every subcommand that judges locks.
struct JudgingOptions {
  CommonOptions common;
  std::optional<std::string> stale_after;

  void add_to(CLI::App& command);
};

// The directory, the threshold and the clocks every entry is judged against. Reads the
// filesystem's clock by creating and removing a probe file in the directory; falls back to this
// machine's clock where that is impossible (read-only or missing directory).
Result<core::SurveyContext> survey_context(const JudgingOptions& options);

// The directory entries among which the holder files of locks named on the command line are
// looked for. A directory that can be searched but not listed (mode 0311, say) still gives access
// to lock files by name: then there are no entries, and a warning says what is not seen
// (`consequence`). An error only when the directory is unusable (not a directory, ...).
Result<std::vector<core::DirectoryEntry>> entries_for_named_locks(const std::string& directory,
                                                                  const core::Messages& messages,
                                                                  const std::string& consequence);

// One `status --json` object, for one file (without the `holders` of a lock).
nlohmann::ordered_json report_json(const core::LockReport& report);

// "exclusive", "shared", "slots 3" from the entry's metadata; "-" without usable metadata.
std::string mode_label(const core::LockReport& report);
// "shared holder", "slot 2 holder", "waiting writer" for holder files; empty for anything else.
std::string holder_label(const core::LockReport& report);
// Why a lock is judged as it is: "holder pid 12 is dead [pid-dead]".
std::string why(const core::LockReport& report);

// `value` as one line of JSON text; bytes that are not UTF-8 (in paths) are replaced.
std::string json_line(const nlohmann::ordered_json& value);

// The columns after the entry's own name and state: MODE PID USER HOST HELD COMMAND WHY.
std::vector<std::string> holder_column_titles();
std::vector<std::string> holder_columns(const core::LockReport& report);

// Rows (the first one being the titles) as text with aligned columns.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// Writes machine or table output to stdout in one go (messages go to stderr).
void write_output(const std::string& text);

} // namespace buildlock::cli
