// The report of a variant's chaos run on stdout: what was done, what was seen, every violation.
#pragma once

#include "options.h"
#include "variant_run.h"

#include <ostream>

namespace buildlock::chaos {

void print_summary(std::ostream& out, const Options& options, const VariantResult& result);

} // namespace buildlock::chaos
