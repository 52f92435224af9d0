#include "core/trace_events.h"

#include <algorithm>

namespace buildlock::core {
namespace {

// Events are formatted by hand rather than through a JSON library: a traced run formats three or
// four of them, and a library's document tree cost it a sixth of its instructions (measured with
// callgrind), more than the 2 % a trace may cost (docs/performance.md).

// The length of the valid UTF-8 sequence at `at` (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), 0 if there is none.
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) {
    return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0u;
  };
  const auto continuation = [&](std::size_t i) {
    return (byte(i) & 0xc0u) == 0x80u;
  };
  const unsigned lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xc2 && lead <= 0xdf) {
    return continuation(1) ? 2 : 0;
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    const unsigned low = lead == 0xe0 ? 0xa0 : 0x80;
    const unsigned high = lead == 0xed ? 0x9f : 0xbf;
    return byte(1) >= low && byte(1) <= high && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const unsigned low = lead == 0xf0 ? 0x90 : 0x80;
    const unsigned high = lead == 0xf4 ? 0x8f : 0xbf;
    return byte(1) >= low && byte(1) <= high && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// `text` as a JSON string. Bytes that are not UTF-8 (a command's, another host's name) become
// U+FFFD rather than make the line unreadable: a trace line must never be lost to them.
void add_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t at = 0; at < text.size();) {
    const char c = text[at];
    const std::size_t length = utf8_length(text, at);
    if (length == 0) {
      out += "\\ufffd";
      ++at;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\u00";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
  out += '"';
}

void add_field(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  add_string(out, value);
}

void add_field(std::string& out, const char* name, std::int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) {
      text += ' ';
    }
    text += word;
  }
  return text;
}

// `{"name":...,"cat":...,"ph":...,"ts":...,"pid":...,"tid":...` of one event of the run; the
// caller adds the rest and ends it with end_event().
std::string begin_event(const TraceSubject& subject, std::string_view name, const char* category,
                        const char* phase, std::int64_t ts) {
  std::string line = "{\"name\":";
  add_string(line, name);
  add_field(line, "cat", category);
  add_field(line, "ph", phase);
  add_field(line, "ts", ts);
  add_field(line, "pid", subject.build);
  add_field(line, "tid", subject.run);
  return line;
}

// `"args":{"lock":...,"mode":...,["slots":...,]"store":...,"host":...` (left open).
void begin_args(std::string& line, const TraceSubject& subject) {
  line += ",\"args\":{\"lock\":";
  add_string(line, subject.lock);
  add_field(line, "mode", mode_name(subject.mode));
  if (subject.mode == LockMode::slots) {
    add_field(line, "slots", subject.slots);
  }
  add_field(line, "store", subject.store);
  add_field(line, "host", subject.host);
}

// Closes the args object and the event, and ends the line.
void end_event(std::string& line) {
  line += "}},\n";
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
  const std::string command = joined(subject.command);
  std::string lines = begin_event(subject, "thread_name", "__metadata", "M", arrived_us);
  lines += ",\"args\":{\"name\":";
  add_string(lines, "run " + subject.lock + ": " + command);
  end_event(lines);
  lines += "{\"name\":\"process_name\",\"cat\":\"__metadata\",\"ph\":\"M\"";
  add_field(lines, "ts", arrived_us);
  add_field(lines, "pid", subject.build);
  lines += ",\"args\":{\"name\":";
  add_string(lines, "build " + std::to_string(subject.build) + " on " + subject.host);
  end_event(lines);

  lines += begin_event(subject, "wait " + subject.lock, trace_wait_category, "X", arrived_us);
  add_field(lines, "dur", std::max<std::int64_t>(0, ended_us - arrived_us));
  begin_args(lines, subject);
  add_field(lines, "command", command);
  add_field(lines, "outcome", outcome_name(outcome));
  if (outcome != WaitOutcome::acquired) {
    add_field(lines, "error", error);
  }
  lines += ",\"behind\":[";
  for (std::size_t i = 0; i < record.behind.size(); ++i) {
    const WaitRecord::Blocker& blocker = record.behind[i];
    lines += i == 0 ? "{\"text\":" : ",{\"text\":";
    add_string(lines, blocker.text);
    if (blocker.pid != 0) {
      add_field(lines, "pid", blocker.pid);
      add_field(lines, "host", blocker.host);
      add_field(lines, "command", blocker.command);
    }
    lines += '}';
  }
  lines += "],\"reclaimed\":[";
  for (std::size_t i = 0; i < record.reclaims.size(); ++i) {
    if (i != 0) {
      lines += ',';
    }
    add_string(lines, record.reclaims[i]);
  }
  lines += ']';
  end_event(lines);
  return lines;
}

std::string hold_lines(const TraceSubject& subject, std::int64_t acquired_us,
                       std::int64_t released_us, const HoldEnd& end) {
  std::string lines;
  if (end.lost_us) {
    lines =
        begin_event(subject, "LOCK LOST " + subject.lock, trace_lost_category, "i", *end.lost_us);
    add_field(lines, "s", "t");
    begin_args(lines, subject);
    add_field(lines, "why", end.lost_why);
    end_event(lines);
  }
  lines += begin_event(subject, "hold " + subject.lock, trace_hold_category, "X", acquired_us);
  add_field(lines, "dur", std::max<std::int64_t>(0, released_us - acquired_us));
  begin_args(lines, subject);
  add_field(lines, "command", joined(subject.command));
  add_field(lines, end.signaled ? "signal" : "exit", end.code);
  lines += end.lost_us ? ",\"lost\":true" : ",\"lost\":false";
  end_event(lines);
  return lines;
}

} // namespace buildlock::core
