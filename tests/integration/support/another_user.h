// Acting as another user: what a test runs as uid 65534 (through setpriv(1) when the suite runs as
// root, since root reads and writes whatever the permission bits say).
//
// That user must be able to execute the programs it is given. The build tree may sit where it
// cannot: a clone in /root (mode 0700) is the usual case. So every program of this build that
// such a command names (buildlock and the helper commands) is replaced by a copy in a directory
// every user can reach: one mkdtemp directory under /tmp, mode 0755, made on first use and
// removed when the test program exits.
#pragma once

#include "support/process.h"

#include <string>

namespace buildlock::test {

// A command as an unprivileged user sees it: as is when the tests do not run as root, else
// through setpriv(1) as `nobody`, with this build's programs replaced by reachable copies and
// without the BUILDLOCK_* settings of the developer's environment.
Command as_unprivileged_user(const Command& command);

// A copy of `program` that every user may execute (made once per test program; the same path on
// every call). Exposed so that a test can prove the copy is what runs.
const std::string& reachable_copy(const std::string& program);

} // namespace buildlock::test
