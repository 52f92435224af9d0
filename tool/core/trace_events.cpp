#include "core/trace_events.h"

#include <nlohmann/json.hpp>

namespace buildlock::core {
namespace {

using nlohmann::json;

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) {
    text += (text.empty() ? "" : " ") + word;
  }
  return text;
}

// The fields every event of the run has. Text that is not UTF-8 (a command's bytes, another
// host's name) is replaced rather than refused: a trace line must never be lost to it.
json event(const TraceSubject& subject, const std::string& name, const char* category,
           const char* phase, std::int64_t ts) {
  json line = {{"name", name}, {"cat", category},      {"ph", phase},
               {"ts", ts},     {"pid", subject.build}, {"tid", subject.run}};
  line["args"] = {{"lock", subject.lock},
                  {"mode", std::string(mode_name(subject.mode))},
                  {"store", subject.store},
                  {"host", subject.host}};
  if (subject.mode == LockMode::slots) {
    line["args"]["slots"] = subject.slots;
  }
  return line;
}

std::string as_line(const json& line) {
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + ",\n";
}

const char* outcome_name(WaitOutcome outcome) {
  switch (outcome) {
  case WaitOutcome::acquired:
    return "acquired";
  case WaitOutcome::timeout:
    return "timeout";
  case WaitOutcome::error:
    break;
  }
  return "error";
}

} // namespace

std::string wait_lines(const TraceSubject& subject, std::int64_t arrived_us, std::int64_t ended_us,
                       const WaitRecord& record, WaitOutcome outcome, const std::string& error) {
  json names = {{"name", "thread_name"},
                {"ph", "M"},
                {"pid", subject.build},
                {"tid", subject.run},
                {"ts", arrived_us}};
  names["args"] = {{"name", "run " + subject.lock + ": " + joined(subject.command)}};
  json process = {
      {"name", "process_name"}, {"ph", "M"}, {"pid", subject.build}, {"ts", arrived_us}};
  process["args"] = {{"name", "build " + std::to_string(subject.build) + " on " + subject.host}};

  json wait = event(subject, "wait " + subject.lock, trace_wait_category, "X", arrived_us);
  wait["dur"] = std::max<std::int64_t>(0, ended_us - arrived_us);
  json& args = wait["args"];
  args["command"] = joined(subject.command);
  args["outcome"] = outcome_name(outcome);
  if (outcome != WaitOutcome::acquired) {
    args["error"] = error;
  }
  args["behind"] = json::array();
  for (const WaitRecord::Blocker& blocker : record.behind) {
    json who = {{"text", blocker.text}};
    if (blocker.pid != 0) {
      who["pid"] = blocker.pid;
      who["host"] = blocker.host;
      who["command"] = blocker.command;
    }
    args["behind"].push_back(std::move(who));
  }
  args["reclaimed"] = record.reclaims;
  return as_line(names) + as_line(process) + as_line(wait);
}

std::string hold_lines(const TraceSubject& subject, std::int64_t acquired_us,
                       std::int64_t released_us, const HoldEnd& end) {
  std::string lines;
  if (end.lost_us) {
    json lost = event(subject, "LOCK LOST " + subject.lock, trace_lost_category, "i", *end.lost_us);
    lost["s"] = "t";
    lost["args"]["why"] = end.lost_why;
    lines += as_line(lost);
  }
  json hold = event(subject, "hold " + subject.lock, trace_hold_category, "X", acquired_us);
  hold["dur"] = std::max<std::int64_t>(0, released_us - acquired_us);
  json& args = hold["args"];
  args["command"] = joined(subject.command);
  if (end.signaled) {
    args["signal"] = end.code;
  } else {
    args["exit"] = end.code;
  }
  args["lost"] = end.lost_us.has_value();
  return lines + as_line(hold);
}

} // namespace buildlock::core
