// `status`, `clean` and `break` when the lock location is etcd (etcd/survey.h): the same output
// and exit statuses as for a lock directory; removing means revoking the lease of a key, which
// deletes it.
#pragma once

#include "cli/break_command.h"
#include "cli/clean_command.h"
#include "cli/status_command.h"

#include <string>

namespace buildlock::cli {

int etcd_status(const StatusOptions& options, const std::string& location);
int etcd_clean(const CleanOptions& options, const std::string& location);
int etcd_break(const BreakOptions& options, const std::string& location);

} // namespace buildlock::cli
