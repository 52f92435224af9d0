#include "core/shortened.h"

#include <algorithm>

namespace buildlock::core {
namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

} // namespace

std::string shortened(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    return std::string(text);
  }
  std::size_t keep = limit > cut_marker.size() ? limit - cut_marker.size() : 0;
  // Back to the first byte of the sequence the cut would split: that character goes whole.
  while (keep > 0 && is_continuation_byte(text[keep])) {
    --keep;
  }
  std::string result(text.substr(0, keep));
  result += cut_marker;
  return result;
}

std::string shortened_command(const std::vector<std::string>& words, std::size_t limit) {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) {
      text += ' ';
    }
    // One byte past the limit is enough to know that it must be cut.
    text.append(word, 0, std::min(word.size(), limit + 1 - std::min(text.size(), limit + 1)));
    if (text.size() > limit) {
      break;
    }
  }
  return shortened(text, limit);
}

} // namespace buildlock::core
