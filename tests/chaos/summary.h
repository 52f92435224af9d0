// The report of a variant's chaos run on stdout: what was done, what was seen, every violation.
#pragma once

#include "options.h"
#include "variant_run.h"

#include <map>
#include <ostream>
#include <string>

namespace buildlock::chaos {

void print_summary(std::ostream& out, const Options& options, const VariantResult& result);

// "what 3, other 1", or "none".
std::string summary_listing(const std::map<std::string, int>& counts);

} // namespace buildlock::chaos
