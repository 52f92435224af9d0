#include "metadata_staleness_target.h"

#include "core/messages.h"
#include "core/metadata.h"
#include "core/staleness.h"
#include "fuzz_bytes.h"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace buildlock::fuzz {
namespace {

using core::Beacon;
using core::LockMetadata;
using core::LockState;
using core::Observation;
using core::Observer;
using core::Seconds;
using core::Verdict;
using os::PidState;

// One row of the reason-code table in docs/protocol.md: the state it means and how the decision
// may have been reached.
struct DocumentedReason {
  std::string_view reason;
  LockState state;
  std::array<std::string_view, 2> judged_by; // an empty entry matches nothing
};

constexpr DocumentedReason documented[] = {
    {"kernel-lock-held", LockState::held, {"kernel lock"}},
    {"holder-dead", LockState::stale, {"kernel lock", "pid check"}},
    {"pid-reused", LockState::stale, {"kernel lock", "pid check"}},
    {"holder-exited", LockState::stale, {"kernel lock"}},
    {"pid-alive", LockState::held, {"pid check"}},
    {"previous-boot", LockState::stale, {"boot id"}},
    {"heartbeat-fresh", LockState::held, {"heartbeat"}},
    {"heartbeat-expired", LockState::stale, {"age"}},
    {"no-metadata-recent", LockState::held, {"heartbeat"}},
    {"no-metadata-expired", LockState::stale, {"age"}},
};

constexpr Beacon beacons[] = {Beacon::held, Beacon::free, Beacon::unsupported};
constexpr PidState pid_states[] = {PidState::alive, PidState::dead, PidState::unknown};
// Seconds, on and around every threshold below, and far in the past and the future (a lock file
// touched by a host whose clock runs ahead has a negative age).
constexpr double lock_ages[] = {1, 0, -1, 60, 119.999, 120, 120.001, 3599, 3600, 3601, -1e9, 1e9};
// --stale-after accepts 0 to a year.
constexpr double stale_after_choices[] = {120, 0, 2, 60, 3600, 31536000};
constexpr double uptime_choices[] = {3600, 0, 60, 120, 1e9};

const char* state_name(LockState state) {
  return state == LockState::held ? "held" : "stale";
}

// Aborts with a description when `holds` is false; `describe` runs only then.
template <class Describe> void require(bool holds, const char* invariant, Describe describe) {
  if (holds) {
    return;
  }
  const std::string details = describe();
  std::fprintf(stderr, "buildlock fuzz: invariant violated: %s\n  %s\n", invariant,
               details.c_str());
  std::abort();
}

// Explanations and refusals carry text from the lock file (host, boot id, mode, JSON tokens), which
// other users and hosts wrote. They reach people only through Messages, which passes every line
// through one_line(): what comes out must be one line without C0, DEL or C1 (UTF-8) controls.
bool prints_as_one_clean_line(std::string_view text) {
  const std::string printed = core::one_line(text);
  for (std::size_t i = 0; i < printed.size(); ++i) {
    const auto byte = static_cast<unsigned char>(printed[i]);
    const bool c1 = byte == 0xc2 && i + 1 < printed.size() &&
                    static_cast<unsigned char>(printed[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(printed[i + 1]) <= 0x9f;
    if (byte < 0x20 || byte == 0x7f || c1) {
      return false;
    }
  }
  return true;
}

// What serialize_metadata() writes, parse_metadata() reads back to the same metadata.
void check_round_trip(const LockMetadata& metadata) {
  require(metadata.pid > 0, "accepted metadata has a positive pid",
          [&] { return "pid " + std::to_string(metadata.pid); });
  const std::string written = core::serialize_metadata(metadata);
  require(!written.empty() && written.find('\n') == written.size() - 1,
          "serialized metadata is one line ending in a newline",
          [&] { return std::string(written); });
  auto reread = core::parse_metadata(written);
  if (written.size() > core::max_metadata_bytes) {
    require(!reread, "metadata over the size limit is refused",
            [&] { return std::to_string(written.size()) + " bytes"; });
    return;
  }
  require(reread.ok(), "parse_metadata() reads what serialize_metadata() writes",
          [&] { return reread.error().message + " in " + written; });
  const std::string rewritten = core::serialize_metadata(*reread);
  require(rewritten == written, "serialize(parse(serialize(m))) == serialize(m)",
          [&] { return written + " became " + rewritten; });
}

std::string describe(const Verdict& verdict) {
  std::string text = std::string(state_name(verdict.state)) + " [" + verdict.reason + "] by " +
                     verdict.judged_by + ": " + verdict.explanation;
  if (verdict.stale_in) {
    text += " (stale in " + std::to_string(verdict.stale_in->count()) + " s)";
  }
  return text;
}

const DocumentedReason* find_documented(std::string_view reason) {
  for (const DocumentedReason& row : documented) {
    if (row.reason == reason) {
      return &row;
    }
  }
  return nullptr;
}

void check_verdict(const Verdict& verdict, const Observation& seen, const Observer& observer,
                   Seconds stale_after) {
  auto about = [&] {
    return describe(verdict);
  };
  const DocumentedReason* row = find_documented(verdict.reason);
  require(row != nullptr, "the reason is a documented reason code", about);
  require(verdict.state == row->state, "the state is the one documented for the reason", about);
  require(verdict.judged_by == row->judged_by[0] || verdict.judged_by == row->judged_by[1],
          "judged_by is one documented for the reason", about);
  require(!verdict.explanation.empty(), "the explanation is not empty", about);
  require(prints_as_one_clean_line(verdict.explanation),
          "the explanation prints as one line without control characters", about);

  require(seen.beacon != Beacon::held || verdict.reason == "kernel-lock-held",
          "a held kernel lock is never stale", about);
  const bool no_metadata = seen.metadata == nullptr;
  require(seen.beacon == Beacon::held || no_metadata == verdict.reason.starts_with("no-metadata-"),
          "below a free kernel lock, no-metadata-* exactly when the metadata is unusable", about);
  require(seen.beacon != Beacon::free || no_metadata ||
              !core::same_kernel(*seen.metadata, observer) || verdict.state == LockState::stale,
          "on the holder's kernel a free kernel lock is stale", about);

  const bool by_heartbeat = verdict.state == LockState::held && verdict.judged_by == "heartbeat";
  require(verdict.stale_in.has_value() == by_heartbeat,
          "stale_in exactly on verdicts held by the heartbeat (age) rule", about);
  if (by_heartbeat) {
    require(seen.age <= stale_after && *verdict.stale_in == stale_after - seen.age,
            "stale_in is what is left of --stale-after", about);
  }
  if (verdict.judged_by == "age") {
    require(seen.age > stale_after, "stale by age only when older than --stale-after", about);
  }
  if (verdict.reason == "holder-dead") {
    require(seen.pid.state == PidState::dead, "holder-dead only for a dead pid", about);
  }
  if (verdict.reason == "pid-reused") {
    require(seen.pid.state == PidState::alive && seen.metadata->start_time && seen.pid.start_time &&
                *seen.metadata->start_time != *seen.pid.start_time,
            "pid-reused only for a live pid with another start time", about);
  }
  if (verdict.reason == "pid-alive") {
    require(seen.beacon == Beacon::unsupported, "pid-alive only without kernel locks", about);
    require(seen.pid.state == PidState::alive, "pid-alive only for a pid seen alive", about);
  }
  if (verdict.reason == "holder-exited") {
    require(seen.beacon == Beacon::free, "holder-exited only for a free kernel lock", about);
  }
  if (verdict.reason == "previous-boot") {
    require(seen.metadata->host == observer.host && seen.metadata->boot_id != observer.boot_id &&
                seen.age > observer.uptime && seen.age > stale_after,
            "previous-boot only for this host's lock untouched since before the boot and for "
            "longer than --stale-after",
            about);
  }
}

bool same_verdict(const Verdict& a, const Verdict& b) {
  return a.state == b.state && a.reason == b.reason && a.explanation == b.explanation &&
         a.judged_by == b.judged_by && a.stale_in == b.stale_in;
}

} // namespace

std::vector<std::string_view> documented_reasons() {
  std::vector<std::string_view> reasons;
  for (const DocumentedReason& row : documented) {
    reasons.push_back(row.reason);
  }
  return reasons;
}

TargetOutcome check_metadata_and_staleness(std::span<const std::uint8_t> input) {
  FuzzBytes bytes(input);
  Observation seen;
  seen.beacon = bytes.pick(beacons);
  seen.pid.state = bytes.pick(pid_states);
  const std::size_t start_time_choice = bytes.choice(3);
  const std::size_t boot_id_choice = bytes.choice(3);
  const std::size_t pid_namespace_choice = bytes.choice(2);
  const std::size_t host_choice = bytes.choice(2);
  seen.age = Seconds(bytes.pick(lock_ages));
  const Seconds stale_after(bytes.pick(stale_after_choices));
  Observer observer;
  observer.uptime = Seconds(bytes.pick(uptime_choices));

  auto parsed = core::parse_metadata(bytes.rest());
  if (parsed) {
    check_round_trip(*parsed);
    seen.metadata = &*parsed;
  } else {
    const std::string& why = parsed.error().message;
    require(!why.empty() && prints_as_one_clean_line(why),
            "a refusal says why and prints as one line without control characters",
            [&] { return why; });
  }

  // The observer's machine, relative to what the lock file records.
  LockMetadata unreadable;
  unreadable.boot_id = "boot-of-the-unreadable-holder";
  const LockMetadata& recorded = seen.metadata != nullptr ? *seen.metadata : unreadable;
  const std::uint64_t recorded_start = recorded.start_time.value_or(500);
  if (start_time_choice == 1) {
    seen.pid.start_time = recorded_start;
  } else if (start_time_choice == 2) {
    seen.pid.start_time = recorded_start + 1;
  }
  const std::string boot_ids[] = {recorded.boot_id, recorded.boot_id + "-other", ""};
  observer.boot_id = boot_ids[boot_id_choice];
  observer.pid_namespace =
      pid_namespace_choice == 0 ? recorded.pid_namespace : recorded.pid_namespace + "-other";
  observer.host = host_choice == 0 ? recorded.host : recorded.host + "-other";

  const Verdict verdict = core::judge(seen, observer, stale_after);
  check_verdict(verdict, seen, observer, stale_after);
  require(same_verdict(verdict, core::judge(seen, observer, stale_after)),
          "judge() is a function of its arguments", [&] { return describe(verdict); });
  return {seen.metadata != nullptr, verdict.reason};
}

} // namespace buildlock::fuzz
