#include "core/trace_reading.h"

#include "core/trace_events.h"
#include "os/filesystem.h"

#include <nlohmann/json.hpp>

namespace buildlock::core {
namespace {

using nlohmann::json;

// A trace of a whole day of builds is a few MB; this bounds a file given by mistake.
constexpr std::size_t max_trace_bytes = std::size_t{1} << 30;

Error bad_input(const std::string& path, std::size_t line, const std::string& why) {
  return Error{ErrorKind::input, "`" + path + "`" +
                                     (line != 0 ? ":" + std::to_string(line) : std::string()) +
                                     ": " + why};
}

std::string printable_start(const std::string& line) {
  return one_line(line.substr(0, 60)) + (line.size() > 60 ? "..." : "");
}

TraceEvent::Kind kind_of(const std::string& category, bool& ours) {
  ours = true;
  if (category == trace_wait_category) {
    return TraceEvent::Kind::wait;
  }
  if (category == trace_hold_category) {
    return TraceEvent::Kind::hold;
  }
  ours = category == trace_lost_category;
  return TraceEvent::Kind::lost;
}

// One of our events; throws json::exception when a field has the wrong type.
TraceEvent to_event(const json& line, TraceEvent::Kind kind, std::size_t file) {
  TraceEvent event;
  event.kind = kind;
  event.file = file;
  const json& args = line.at("args");
  event.lock = args.at("lock").get<std::string>();
  event.store = args.value("store", "");
  event.mode = args.value("mode", "");
  event.host = args.value("host", "");
  event.command = args.value("command", "");
  event.build = line.at("pid").get<std::int64_t>();
  event.run = line.at("tid").get<std::int64_t>();
  event.ts_us = line.at("ts").get<std::int64_t>();
  event.dur_us = line.value("dur", std::int64_t{0});
  if (kind == TraceEvent::Kind::wait) {
    event.outcome = args.value("outcome", "acquired");
    for (const json& blocker : args.value("behind", json::array())) {
      event.behind.push_back({blocker.value("text", ""), blocker.value("pid", std::int64_t{0}),
                              blocker.value("host", ""), blocker.value("command", "")});
    }
    event.reclaimed = args.value("reclaimed", std::vector<std::string>{});
  } else if (kind == TraceEvent::Kind::hold) {
    event.signaled = args.contains("signal");
    event.code = event.signaled ? args.at("signal").get<int>() : args.value("exit", 0);
    event.lost = args.value("lost", false);
  }
  return event;
}

Status read_one(const std::string& path, std::size_t index, std::vector<TraceEvent>& events,
                const Messages& messages) {
  auto file = os::open_regular_file(path);
  if (!file) {
    return Error{ErrorKind::input, file.error().message}; // it names the file
  }
  bool truncated = false;
  auto text = os::read_prefix(*file, max_trace_bytes, truncated);
  if (!text) {
    return bad_input(path, 0, text.error().message);
  }
  if (truncated) {
    return bad_input(path, 0, "larger than 1 GiB: not a trace");
  }
  std::size_t number = 0;
  std::size_t at = 0;
  while (at < text->size()) {
    const std::size_t end = text->find('\n', at);
    const bool complete = end != std::string::npos;
    std::string line = text->substr(at, complete ? end - at : std::string::npos);
    at = complete ? end + 1 : text->size();
    ++number;
    if (number == 1) {
      if (line != "[") {
        return bad_input(path, 1,
                         "not a trace written by buildlock (it starts with \"[\" on a "
                         "line of its own): " +
                             printable_start(line));
      }
      continue;
    }
    if (line.empty() || line == "]") {
      continue;
    }
    if (!complete) {
      // Events end with ",\n": a writer killed mid-line, or a copy taken while one wrote.
      messages.warning("`" + path + "`:" + std::to_string(number) +
                       ": the last line is incomplete (a writer killed while writing it?); "
                       "skipped");
      break;
    }
    if (line.back() == ',') {
      line.pop_back();
    }
    try {
      const json event = json::parse(line);
      bool ours = false;
      const TraceEvent::Kind kind = kind_of(event.value("cat", ""), ours);
      if (ours) {
        events.push_back(to_event(event, kind, index));
      }
    } catch (const json::exception&) {
      return bad_input(path, number, "not a trace event: " + printable_start(line));
    }
  }
  if (number == 0) {
    return bad_input(path, 0, "empty: not a trace written by buildlock");
  }
  return ok_status();
}

} // namespace

Result<std::vector<TraceEvent>> read_traces(const std::vector<std::string>& paths,
                                            const Messages& messages) {
  std::vector<TraceEvent> events;
  for (std::size_t index = 0; index < paths.size(); ++index) {
    if (auto read = read_one(paths[index], index, events, messages); !read) {
      return read.error();
    }
  }
  return events;
}

} // namespace buildlock::core
