// Is the holder (or waiter) of an etcd key alive? Judged exactly like a lock file without kernel
// locks (core/staleness.h): a holder on this kernel and in this PID namespace by its pid, start
// time and the processes its command started; any other holder only by its lease, which etcd
// ends once the holder stops renewing it (the age rule's counterpart, on the etcd leader's
// clock). A holder on another host is therefore never reclaimed by us: its lease runs out.
#pragma once

#include "core/staleness.h"
#include "etcd/kv.h"
#include "etcd/queue.h"
#include "os/process_mark.h"

#include <string>
#include <string_view>
#include <vector>

namespace buildlock::etcd {

// The variable that carries, for every process a command started, the leases of the etcd holds
// it runs under ("LEASE[,LEASE...]", lease_hex() form): a holder whose buildlock was killed but
// whose command still runs is not reclaimed.
inline constexpr const char* held_leases_variable = "BUILDLOCK_ETCD_LEASES";

// `inherited` (this process's own value) plus `lease`.
std::string held_leases_value(const char* inherited, std::int64_t lease);

// Whether the BUILDLOCK_ETCD_LEASES value `held_leases` names `lease`.
bool names_lease(std::string_view held_leases, std::int64_t lease);

// The name of the descriptor (os::create_mark_descriptor()) that a command run under `lease`
// inherits besides the variable: "buildlock-etcd-lease-" and the lease in lease_hex() form.
std::string lease_mark_name(std::int64_t lease);

// How the processes of a command run under `lease` are found (os/process_mark.h): their
// BUILDLOCK_ETCD_LEASES names it, or they hold the descriptor named lease_mark_name(lease).
os::ProcessMark command_mark(std::int64_t lease);

// The queue entries of keys read from etcd, their values parsed as metadata.
std::vector<QueueEntry> queue_entries(const std::vector<KeyValue>& kvs);

// The verdict on `entry`'s holder, as seen from this process.
core::Verdict judge_holder(const QueueEntry& entry);

// "pid 12 on host `h` (make -j8)" or "an unknown holder (lease 0123...)".
std::string describe_holder(const QueueEntry& entry);

} // namespace buildlock::etcd
