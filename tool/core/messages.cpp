#include "core/messages.h"

#include <cstdio>

namespace buildlock::core {
namespace {

void emit(const char* prefix, const std::string& text) {
  // One write per line so that lines from concurrent buildlocks do not interleave.
  const std::string line = std::string("buildlock: ") + prefix + one_line(text) + "\n";
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

void Messages::error(const std::string& text) const {
  emit("error: ", text);
}
void Messages::warning(const std::string& text) const {
  emit("warning: ", text);
}
void Messages::notice(const std::string& text) const {
  if (!quiet) {
    emit("", text);
  }
}
void Messages::explain(const std::string& text) const {
  if (verbose) {
    emit("", text);
  }
}

} // namespace buildlock::core
