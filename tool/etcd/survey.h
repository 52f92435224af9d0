// The locks under an etcd location, each key judged, for `status`, `clean` and `break`: the same
// reports (core::LockReport) as for the files of a lock directory, so that the table and the
// JSON are the same too (docs/managing-locks.md; the etcd-only fields are additive).
//
// A key is reported as what its holder is doing: `lock` (an exclusive holder), `writer` (an
// exclusive run still waiting), `shared` (a shared run, holding or waiting), `slot` (a slotted
// run; `slot` numbers the holders 1..N in arrival order). Its state is the verdict of
// etcd/holder_check.h: `stale` only for a holder on this machine whose process is gone.
#pragma once

#include "core/lock_survey.h"
#include "etcd/client.h"
#include "etcd/queue.h"

#include <string>
#include <vector>

namespace buildlock::etcd {

struct KeyReport {
  QueueEntry entry;
  bool holds = false; // holds the lock (else waits in its queue)
  core::LockReport report;
};

struct EtcdLockSurvey {
  // The lock as a whole: `free` without keys, `held` while a live key holds it, else `stale`;
  // who and why from its oldest holding key.
  core::LockReport lock;
  std::vector<KeyReport> keys; // in arrival (create revision) order
};

// Every lock under `prefix` in name order, or only the locks `names` (in that order; a lock
// without keys is `free`).
Result<std::vector<EtcdLockSurvey>> survey_locks(Client& client, const std::string& prefix,
                                                 const std::vector<std::string>& names,
                                                 core::Seconds timeout);

} // namespace buildlock::etcd
