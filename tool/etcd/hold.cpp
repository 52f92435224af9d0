#include "etcd/hold.h"

#include "etcd/base64.h"
#include "etcd/json_fields.h"
#include "etcd/kv.h"
#include "os/detached_process.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace buildlock::etcd {

core::Seconds request_timeout(std::int64_t ttl) {
  // At least two seconds: a loaded etcd took more than one to answer a grant or a create (load
  // average 35 on two cores), and only failing over depends on it (a holder's renewals have
  // their own, shorter limit: the time left before jeopardy).
  return std::clamp(core::Seconds(static_cast<double>(ttl) / 3.0), core::Seconds(2.0),
                    core::Seconds(5.0));
}

EtcdHold::EtcdHold(std::unique_ptr<Client> client, Lease lease)
    : client_(std::move(client)), lease_(lease), last_renewal_sent_(os::uptime()),
      last_attempt_(last_renewal_sent_) {}

core::Seconds EtcdHold::renew_interval() const {
  return core::Seconds(static_cast<double>(lease_.ttl) / 3.0);
}

core::Seconds EtcdHold::check_interval() const {
  return core::Seconds(static_cast<double>(lease_.ttl) * holder_check_fraction);
}

core::Seconds EtcdHold::kill_window() const {
  return core::Seconds(static_cast<double>(lease_.ttl) * holder_kill_fraction);
}

void EtcdHold::set_key(std::string key, std::int64_t create_revision) {
  key_ = std::move(key);
  create_revision_ = create_revision;
}

core::Seconds EtcdHold::since_last_renewal() const {
  return std::chrono::duration_cast<core::Seconds>(os::uptime() - last_renewal_sent_);
}

EtcdHold::Attempt EtcdHold::attempt(core::Seconds timeout, std::string& why) {
  const std::chrono::nanoseconds sent = os::uptime();
  last_attempt_ = sent;
  try {
    auto renewed = keep_alive(*client_, lease_.id, timeout);
    if (!renewed) {
      why = renewed.error().message;
      return Attempt::failed;
    }
    if (*renewed == 0) {
      why = "etcd says its lease " + lease_hex(lease_.id) + " has expired or was revoked";
      return Attempt::gone;
    }
    if (!key_.empty()) {
      // The lease alone is not the hold: `break` may have deleted only the key.
      auto answer = client_->call("/v3/kv/range",
                                  {{"key", base64_encode(key_)}, {"keys_only", true}}, timeout);
      if (!answer) {
        why = answer.error().message;
        return Attempt::failed;
      }
      if (integer_field(*answer, "count") == 0) {
        why = "its key `" + key_ + "` was deleted";
        return Attempt::gone;
      }
    }
  } catch (const std::exception& exception) {
    // Whatever an answer held, it is no verdict on the lease: only a renewal that did not work.
    why = std::string("renewing lease ") + lease_hex(lease_.id) + ": " + exception.what();
    return Attempt::failed;
  }
  last_renewal_sent_ = sent;
  if (keeper_) {
    os::write_without_blocking(keeper_, "renewed " + std::to_string(sent.count()) + "\n");
  }
  return Attempt::renewed;
}

bool EtcdHold::renew(bool force, std::string& why) {
  if (!force && since_last_renewal() < renew_interval()) {
    return true;
  }
  std::string failure;
  switch (attempt(request_timeout(lease_.ttl), failure)) {
  case Attempt::renewed:
    return true;
  case Attempt::gone:
    why = failure;
    return false;
  case Attempt::failed:
    break;
  }
  if (since_last_renewal() >= core::Seconds(static_cast<double>(lease_.ttl))) {
    why = "no renewal of its lease succeeded for its whole TTL of " + std::to_string(lease_.ttl) +
          " s (" + failure + ")";
    return false;
  }
  return true; // not yet lost: try again at the next renewal
}

void EtcdHold::publish_acquisition() {
  // A few tries, each no longer than a check interval, so that the renewals keep their schedule;
  // after that `status` shows the arrival time, as for a holder of an older version.
  constexpr int max_attempts = 3;
  if (acquired_value_.empty() || key_.empty() || publish_attempts_ >= max_attempts) {
    return;
  }
  // Only with a fresh renewal: one that is due comes first, and this request, limited to a check
  // interval, then ends by TTL / 6, well before jeopardy, so it never delays the stop.
  if (since_last_renewal() >=
      core::Seconds(static_cast<double>(lease_.ttl) * holder_renew_fraction)) {
    return;
  }
  ++publish_attempts_;
  const core::Seconds timeout = std::min(request_timeout(lease_.ttl), check_interval());
  auto replaced = replace_value(*client_, key_, create_revision_, acquired_value_, lease_.id,
                                std::max(core::Seconds(0.05), timeout));
  if (replaced) {
    acquired_value_.clear(); // written, or the key is gone (keep() tells)
  }
}

bool EtcdHold::keep(std::string& why, double jeopardy_fraction) {
  const double ttl = static_cast<double>(lease_.ttl);
  const core::Seconds jeopardy(ttl * jeopardy_fraction);
  const core::Seconds since_attempt =
      std::chrono::duration_cast<core::Seconds>(os::uptime() - last_attempt_);
  std::string failure;
  if (since_last_renewal() >= core::Seconds(ttl * holder_renew_fraction) &&
      since_attempt >= check_interval() * 0.9 && since_last_renewal() < jeopardy) {
    // Never past jeopardy: the command must be told in time, not after a request's timeout.
    const core::Seconds left = jeopardy - since_last_renewal();
    const core::Seconds timeout =
        std::max(core::Seconds(0.05), std::min(request_timeout(lease_.ttl), left));
    switch (attempt(timeout, failure)) {
    case Attempt::renewed:
      return true;
    case Attempt::gone:
      why = failure;
      return false;
    case Attempt::failed:
      last_failure_ = failure;
      break;
    }
  }
  if (since_last_renewal() >= jeopardy) {
    std::array<char, 32> seconds{};
    std::snprintf(seconds.data(), seconds.size(), "%.1f", since_last_renewal().count());
    why = "no renewal of its lease succeeded for " + std::string(seconds.data()) + " s, " +
          (jeopardy_fraction == holder_jeopardy_fraction ? "a third" : "half") + " of its TTL of " +
          std::to_string(lease_.ttl) + " s: stopping before etcd can give the lock to another run" +
          (last_failure_.empty() ? "" : " (" + last_failure_ + ")");
    return false;
  }
  publish_acquisition();
  return true;
}

bool EtcdHold::start_holding(std::string& why) {
  const core::Seconds holder_renew(static_cast<double>(lease_.ttl) * holder_renew_fraction);
  if (since_last_renewal() >= holder_renew && !renew(true, why)) {
    return false;
  }
  return keep(why);
}

void EtcdHold::release(const core::Messages* messages) {
  if (released_ || client_ == nullptr) {
    return;
  }
  released_ = true;
  if (keeper_) {
    // First: nothing of the command runs any more, the keeper must not keep the lease for it.
    os::write_without_blocking(keeper_, "released\n");
    keeper_.reset();
  }
  if (auto revoked = revoke_lease(*client_, lease_.id, request_timeout(lease_.ttl));
      !revoked && messages != nullptr) {
    messages->warning(revoked.error().message + "; the lock is free once the lease's TTL of " +
                      std::to_string(lease_.ttl) + " s runs out");
  }
}

} // namespace buildlock::etcd
