#include "core/messages.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace buildlock::core {
namespace {

MessageFormat message_format = MessageFormat::text;

// The JSON line for `level`: every byte of `text` escaped as JSON wants (control characters
// included, so one line whatever it holds), bytes that are not UTF-8 replaced.
std::string json_line(const char* level, const std::string& text) {
  nlohmann::ordered_json object;
  object["schema_version"] = 1;
  object["source"] = "buildlock";
  object["level"] = level;
  object["message"] = text;
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void emit(const char* level, const char* prefix, const std::string& text) {
  // One write per line so that lines from concurrent buildlocks do not interleave.
  const std::string line = message_format == MessageFormat::json_lines
                               ? json_line(level, text)
                               : std::string("buildlock: ") + prefix + one_line(text) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      out += '?';
    } else if (byte == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out += '?'; // U+0080..U+009F encoded in UTF-8: the C1 controls
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

void set_message_format(MessageFormat format) {
  message_format = format;
}

void Messages::error(const std::string& text) const {
  emit("error", "error: ", text);
}
void Messages::warning(const std::string& text) const {
  emit("warning", "warning: ", text);
}
void Messages::notice(const std::string& text) const {
  if (!quiet) {
    emit("notice", "", text);
  }
}
void Messages::explain(const std::string& text) const {
  if (verbose) {
    emit("verbose", "", text);
  }
}

} // namespace buildlock::core
