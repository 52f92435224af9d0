// Client: requests to etcd's v3 JSON gateway (POST /v3/..., JSON in and out), one endpoint at a
// time, moving on to the next endpoint when one cannot answer.
//
// Every request has a time limit: an endpoint that accepts connections but never answers (a
// stopped or partitioned member) costs at most that limit before the next one is tried, and when
// none answers the caller gets ErrorKind::lock_directory (exit 74), never a hang.
#pragma once

#include "core/duration.h"
#include "etcd/curl_api.h"
#include "etcd/location.h"
#include "os/result.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace buildlock::etcd {

using nlohmann::json;

class Client {
public:
  explicit Client(Location location);

  const Location& location() const { return location_; }

  // POSTs `body` to `path` ("/v3/kv/range") and returns the answer. Tries the endpoint that
  // answered last first, then the others in order; an endpoint is passed over when it cannot be
  // reached, times out (`timeout` per attempt) or says it has no leader. An error answer from a
  // working endpoint (a lease that does not exist, permission denied) is returned as an error
  // at once, with etcd's message. Errors: ErrorKind::lock_directory.
  Result<json> call(const std::string& path, const json& body, core::Seconds timeout);

  // An easy handle set up to POST `body` to `path` at the endpoint that answered last, with TLS
  // and authentication; `timeout` limits only connecting (for streams that stay open: the watch).
  Result<CurlEasy> stream_request(const std::string& path, const std::string& body,
                                  core::Seconds timeout);

  // Makes the next call() start with the endpoint after the current one (a stream stalled).
  void skip_endpoint();

private:
  // Sets `easy` up to POST `body` to `path` at `endpoint` (TLS, and `authorization` unless empty).
  void prepare(CurlEasy& easy, std::size_t endpoint, const std::string& path,
               const std::string& body, core::Seconds timeout, const std::string& authorization);
  // The token to send to `endpoint` for `path`, "" when none is needed.
  Result<std::string> authorization(std::size_t endpoint, const std::string& path,
                                    core::Seconds timeout);
  // The handle kept for `endpoint`, reset: its connection is reused, request after request
  // (a new TCP connection cost each request 2.5 ms of the handoff).
  Result<CurlEasy*> kept_handle(std::size_t endpoint);
  // etcd's auth token for `endpoint` (tokens of the "simple" kind are known to one member only).
  Result<std::string> token(std::size_t endpoint, core::Seconds timeout);

  Location location_;
  std::size_t current_ = 0;
  std::vector<std::string> tokens_;
  std::vector<std::unique_ptr<CurlEasy>> kept_;
  bool token_refused_ = false; // the last token() failed because etcd said no, not unreachable
};

// Whether `error` (from call(), perhaps with context added) says that no endpoint answered, as
// opposed to an answer that refused the request: only the former may pass with time.
bool no_endpoint_answered(const Error& error);

// "etcd at http://HOST:PORT: <why>", for errors about one endpoint.
std::string endpoint_context(const std::string& endpoint);

} // namespace buildlock::etcd
