#include "core/messages.h"

#include <cstdio>

namespace buildlock::core {
namespace {

void emit(const char* prefix, const std::string& text) {
  // One write per line so that lines from concurrent buildlocks do not interleave.
  const std::string line = std::string("buildlock: ") + prefix + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace

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
