#include "core/run_trace.h"

#include "os/append_only_file.h"
#include "os/clock.h"
#include "os/filesystem.h"
#include "os/process_identity.h"
#include "os/process_tree.h"

#include <cstdlib>

namespace buildlock::core {
namespace {

std::int64_t now_us() {
  return os::wall_clock_ns() / 1000;
}

// Puts a file holding only the header at `path` unless something is there already. Made complete
// under a name of our own and linked into place, so that the name never shows a file without
// its header: a run that appended to a file still being created would put its line before the
// "[" (or the creator's "[" after it). Losing the race to another creator is fine (EEXIST).
Status create_with_header(const std::string& path) {
  auto existing = os::stat_entry(path);
  if (existing && existing->type != os::EntryType::missing) {
    return ok_status();
  }
  const std::string temporary = path + ".buildlock-new." + std::to_string(os::local_identity().pid);
  (void)os::remove_file(temporary); // left by a run of ours killed right here, with our pid
  auto file = os::create_new_file(temporary);
  if (!file) {
    return file.error();
  }
  Status written = os::write_all(*file, trace_header);
  file->reset();
  Result<bool> linked = written ? os::link_new_name(temporary, path) : Result<bool>(false);
  (void)os::remove_file(temporary);
  if (!written) {
    return written.error();
  }
  if (!linked) {
    return linked.error();
  }
  return ok_status();
}

} // namespace

std::optional<RunTrace> RunTrace::start(const std::string& path, TraceSubject subject,
                                        const Messages& messages) {
  const std::int64_t arrived = now_us();
  Status created = create_with_header(path);
  auto file = created ? os::open_for_appending(path) : Result<os::Fd>(created.error());
  if (!file) {
    messages.warning("cannot write the trace `" + path + "`: " + file.error().message +
                     "; running without it");
    return std::nullopt;
  }
  subject.run = os::local_identity().pid;
  // Runs of a build are grouped by the process that set BUILDLOCK_TRACE; a run traced by
  // --trace alone is a build of its own, and need not look at its ancestors at all.
  const char* variable = std::getenv(trace_variable);
  subject.build = variable != nullptr && *variable != '\0'
                      ? os::outermost_ancestor_with(trace_variable)
                      : os::local_identity().pid;
  subject.host = os::local_identity().host;
  RunTrace trace(std::move(*file), path, std::move(subject), messages);
  trace.arrived_us_ = arrived;
  return trace;
}

RunTrace::RunTrace(os::Fd file, std::string path, TraceSubject subject, const Messages& messages)
    : file_(std::move(file)), path_(std::move(path)), subject_(std::move(subject)),
      messages_(&messages) {}

void RunTrace::acquired() {
  const std::int64_t now = now_us();
  acquired_us_ = now;
  append(wait_lines(subject_, arrived_us_, now, record_, WaitOutcome::acquired, ""));
}

void RunTrace::gave_up(WaitOutcome outcome, const std::string& error) {
  append(wait_lines(subject_, arrived_us_, now_us(), record_, outcome, error));
}

void RunTrace::lost(const std::string& why) {
  if (!end_.lost_us) {
    end_.lost_us = now_us();
    end_.lost_why = why;
  }
}

void RunTrace::released(bool signaled, int code) {
  if (hold_written_ || !acquired_us_) {
    return;
  }
  hold_written_ = true;
  end_.signaled = signaled;
  end_.code = code;
  append(hold_lines(subject_, *acquired_us_, now_us(), end_));
}

void RunTrace::append(const std::string& lines) {
  if (auto written = os::append_whole(file_, lines); !written && !failure_reported_) {
    failure_reported_ = true;
    messages_->warning("cannot write the trace `" + path_ + "`: " + written.error().message);
  }
}

} // namespace buildlock::core
