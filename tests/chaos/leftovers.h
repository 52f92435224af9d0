// The end state: once every wrapper and command has exited, the lock directory may hold only what
// buildlock itself would reclaim. Checked the way a user would:
// 1. `buildlock status --json` must call every lock `stale` (or `free`);
// 2. `buildlock clean --json` must remove all of them and every left-over temporary file that has
//    metadata;
// 3. what is left may only be temporary files without metadata: a wrapper killed in the instant
//    between creating its temporary file and writing into it leaves one, and the age rule protects
//    it for --stale-after (120 s by default) since it cannot be told from one being prepared. With
//    every process gone, `buildlock clean --stale-after 0 --json` must remove exactly those
//    (reason `no-metadata-expired`);
//    A stale file whose reclaimer was killed holding its claim goes with that claim: every
//    reclaimer, the first `clean` included, leaves a claimed file alone until the claim is old
//    enough to be abandoned;
// 4. then the directory must be empty; over etcd, no key may be left under the variant's prefix
//    (listed with `etcdctl get --prefix`).
#pragma once

#include "arena.h"
#include "options.h"

#include <map>
#include <string>
#include <vector>

namespace buildlock::chaos {

struct LeftoversReport {
  std::map<std::string, int> status_states; // "stale (holder-dead)" -> entries in `status`
  std::map<std::string, int> cleaned;       // "lock", "temp" -> entries `clean` removed
  // What only `clean --stale-after 0.2` removed, by reason: temporary files without metadata
  // and abandoned claims, left by processes killed mid-way.
  std::map<std::string, int> aged_out;
  bool etcd_keys_checked = false; // etcd: the keys under the prefix were listed with etcdctl
  int etcd_keys_left = 0;
  std::vector<std::string> violations;
};

LeftoversReport check_leftovers(const Options& options, const Arena& arena);

// `buildlock status` (the table) and a listing of the lock directory, for a report made while
// something hangs.
std::string describe_lock_directory(const Options& options, const Arena& arena);

} // namespace buildlock::chaos
