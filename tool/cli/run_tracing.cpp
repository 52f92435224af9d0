#include "cli/run_tracing.h"

#include <cstdlib>

namespace buildlock::cli {

std::optional<core::RunTrace> start_trace(const RunOptions& options,
                                          const core::AcquireRequest& request,
                                          const core::Messages& messages) {
  const char* file = nullptr;
  if (options.trace && !options.trace->empty()) {
    file = options.trace->c_str();
  } else if (const char* variable = std::getenv(core::trace_variable);
             variable != nullptr && *variable != '\0') {
    file = variable;
  } else {
    return std::nullopt;
  }
  return core::RunTrace::start(file,
                               core::TraceSubject{0, 0, "", request.name, request.mode,
                                                  request.slots, request.directory,
                                                  request.command},
                               messages);
}

} // namespace buildlock::cli
