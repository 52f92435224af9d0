// From the build scenario to rows of the report (docs/performance.md, "What wrapping costs a
// real build").
#pragma once

#include "config.h"
#include "report.h"

namespace buildlock::bench {

void add_build(Report& report, const Config& config);

} // namespace buildlock::bench
