// Watch: an open etcd watch stream (POST /v3/watch, answered by one JSON message per line for as
// long as the connection stays open) on a key or key range, read without blocking the caller, so
// that a waiter can watch its predecessor's key, its own signals and a local holder's pid at once.
//
// It reports deletions only (the events a waiter waits for; etcd is asked not to send puts), with
// the keys deleted, so that a waiter that watches every older key can decide from the events
// alone, without reading the keys again. A stream that ends or fails, or that etcd cancels
// (compaction), loses track: the caller then reads the keys again and watches anew, perhaps
// through another endpoint, instead of trusting a silent connection.
#pragma once

#include "etcd/client.h"
#include "os/clock.h"

#include <memory>
#include <string>
#include <vector>

namespace buildlock::etcd {

class Watch {
public:
  // Watches [key, range_end) (`range_end` empty: `key` alone) from `start_revision`, so that a
  // deletion after the read that chose what to watch is not missed.
  static Result<Watch> start(Client& client, const std::string& key, const std::string& range_end,
                             std::int64_t start_revision, core::Seconds connect_timeout);

  Watch(Watch&&) noexcept;
  Watch& operator=(Watch&&) = delete;
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch();

  // Waits until a deletion was seen or track was lost (returns true), `deadline` passes, or
  // `wake_fd` (>= 0) becomes readable (returns false).
  bool wait(os::TimePoint deadline, int wake_fd);

  // Whether a deletion was seen (or track was lost) and not taken yet.
  bool fired() const;
  // The stream ended or failed: the events no longer tell everything.
  bool lost_track() const;
  // The keys deleted since the last call, in revision order; wait() waits for new ones after it.
  std::vector<std::string> take_deleted();

  struct State; // the stream and what it brought so far (watch.cpp)

private:
  explicit Watch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

} // namespace buildlock::etcd
