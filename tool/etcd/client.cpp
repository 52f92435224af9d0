#include "etcd/client.h"

#include "etcd/json_fields.h"

#include <algorithm>
#include <cmath>

namespace buildlock::etcd {
namespace {

std::size_t append_to_string(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

long milliseconds(core::Seconds timeout) {
  return std::max(1L, static_cast<long>(std::lround(timeout.count() * 1000.0)));
}

// gRPC status 14 (Unavailable) is how etcd says "no leader", "leader changed" and "too many
// requests" through the gateway: another member may do better.
constexpr int grpc_unavailable = 14;
// gRPC status 16 (Unauthenticated): among others an auth token that expired (simple tokens after
// --auth-token-ttl, JWTs after their own TTL).
constexpr int grpc_unauthenticated = 16;

struct Answer {
  long status = 0;
  std::string body;
};

enum class Failure { none, endpoint, request };

struct Outcome {
  Failure failure = Failure::none;
  bool unauthenticated = false;
  std::string why;
  json document;
};

// etcd's message and gRPC code in an error answer. Unary calls answer {"code": N, "message": "..."}
// (and, in 3.4, "error": "..."); streaming calls (/v3/lease/keepalive, /v3/watch) answer
// {"error": {"grpc_code": N, "message": "...", ...}}, an object, with HTTP status 200. Nothing in
// an answer is trusted to have the type the documentation gives it.
void read_error(const json& document, int& code, std::string& message) {
  code = static_cast<int>(integer_field(document, "code"));
  message = string_field(document, "message");
  const auto error = document.find("error");
  if (error == document.end()) {
    return;
  }
  if (error->is_object()) {
    code = code != 0 ? code : static_cast<int>(integer_field(*error, "grpc_code"));
    message = message.empty() ? string_field(*error, "message") : message;
  } else if (error->is_string() && message.empty()) {
    message = error->get<std::string>();
  }
  if (message.empty()) {
    message = "an error answer without a message";
  }
}

Outcome interpret(const Answer& answer) {
  Outcome outcome;
  try {
    outcome.document = json::parse(answer.body);
  } catch (const json::exception&) {
    outcome.failure = Failure::endpoint;
    outcome.why = "HTTP " + std::to_string(answer.status) + " with an answer that is not JSON";
    return outcome;
  }
  const json& document = outcome.document;
  if (!document.is_object()) {
    outcome.failure = Failure::endpoint;
    outcome.why = "HTTP " + std::to_string(answer.status) + " with an answer that is not an object";
    return outcome;
  }
  if (answer.status == 200 && !document.contains("error")) {
    return outcome;
  }
  int code = 0;
  std::string message;
  read_error(document, code, message);
  outcome.failure = code == grpc_unavailable ? Failure::endpoint : Failure::request;
  outcome.unauthenticated = answer.status == 401 || code == grpc_unauthenticated;
  outcome.why = message.empty() ? "HTTP " + std::to_string(answer.status) : message;
  return outcome;
}

} // namespace

constexpr std::string_view no_endpoint_text = "no etcd endpoint answered: ";

bool no_endpoint_answered(const Error& error) {
  return error.message.find(no_endpoint_text) != std::string::npos;
}

std::string endpoint_context(const std::string& endpoint) {
  return "etcd at " + endpoint;
}

Client::Client(Location location)
    : location_(std::move(location)), tokens_(location_.endpoints.size()),
      kept_(location_.endpoints.size()) {}

void Client::skip_endpoint() {
  current_ = (current_ + 1) % location_.endpoints.size();
}

Result<CurlEasy*> Client::kept_handle(std::size_t endpoint) {
  if (kept_[endpoint]) {
    kept_[endpoint]->reset();
    return kept_[endpoint].get();
  }
  auto easy = CurlEasy::make();
  if (!easy) {
    return easy.error();
  }
  kept_[endpoint] = std::make_unique<CurlEasy>(std::move(*easy));
  return kept_[endpoint].get();
}

Result<std::string> Client::authorization(std::size_t endpoint, const std::string& path,
                                          core::Seconds timeout) {
  if (location_.credentials.user.empty() || path == "/v3/auth/authenticate") {
    return std::string();
  }
  return token(endpoint, timeout);
}

void Client::prepare(CurlEasy& easy, std::size_t endpoint, const std::string& path,
                     const std::string& body, core::Seconds timeout,
                     const std::string& authorization) {
  const std::string url = location_.endpoints[endpoint] + path;
  easy.set(CURLOPT_URL, url.c_str()); // libcurl copies strings it is given
  easy.set(CURLOPT_POST, 1L);
  easy.set(CURLOPT_COPYPOSTFIELDS, body.c_str());
  easy.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(timeout));
  // No signals from libcurl (its resolver timeout uses SIGALRM, which buildlock owns).
  easy.set(CURLOPT_NOSIGNAL, 1L);
  easy.set(CURLOPT_NOPROXY, "*"); // a build's http_proxy is for the internet, not for etcd
  easy.add_header("Content-Type: application/json");
  const Credentials& credentials = location_.credentials;
  if (!credentials.ca_file.empty()) {
    easy.set(CURLOPT_CAINFO, credentials.ca_file.c_str());
  }
  if (!credentials.cert_file.empty()) {
    easy.set(CURLOPT_SSLCERT, credentials.cert_file.c_str());
  }
  if (!credentials.key_file.empty()) {
    easy.set(CURLOPT_SSLKEY, credentials.key_file.c_str());
  }
  if (!authorization.empty()) {
    easy.add_header(("Authorization: " + authorization).c_str());
  }
}

Result<std::string> Client::token(std::size_t endpoint, core::Seconds timeout) {
  if (!tokens_[endpoint].empty()) {
    return tokens_[endpoint];
  }
  const json body = {{"name", location_.credentials.user},
                     {"password", location_.credentials.password}};
  auto kept = kept_handle(endpoint);
  if (!kept) {
    return kept.error();
  }
  CurlEasy& easy = **kept;
  prepare(easy, endpoint, "/v3/auth/authenticate", body.dump(), timeout, "");
  Answer answer;
  easy.set(CURLOPT_TIMEOUT_MS, milliseconds(timeout));
  easy.set(CURLOPT_WRITEFUNCTION, append_to_string);
  easy.set(CURLOPT_WRITEDATA, &answer.body);
  if (const CURLcode code = easy.api().easy_perform(easy.get()); code != CURLE_OK) {
    return Error{ErrorKind::lock_directory, endpoint_context(location_.endpoints[endpoint]) + ": " +
                                                easy.api().easy_strerror(code)};
  }
  easy.api().easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &answer.status);
  Outcome outcome = interpret(answer);
  if (outcome.failure != Failure::none || string_field(outcome.document, "token").empty()) {
    token_refused_ = outcome.failure != Failure::endpoint;
    return Error{ErrorKind::lock_directory,
                 endpoint_context(location_.endpoints[endpoint]) + ": authenticating as `" +
                     location_.credentials.user +
                     "`: " + (outcome.why.empty() ? "no token in the answer" : outcome.why)};
  }
  tokens_[endpoint] = string_field(outcome.document, "token");
  return tokens_[endpoint];
}

Result<json> Client::call(const std::string& path, const json& body, core::Seconds timeout) {
  if (auto api = curl_api(); !api) {
    return api.error(); // not about any endpoint
  }
  const std::string text = body.dump();
  std::string failures;
  for (std::size_t attempt = 0; attempt < location_.endpoints.size(); ++attempt) {
    const std::size_t endpoint = (current_ + attempt) % location_.endpoints.size();
    const std::string& name = location_.endpoints[endpoint];
    // An expired token is refused once per endpoint: authenticate again and repeat the request
    // (a token's expiry is no reason to give up a lock, nor a place in its queue).
    for (bool fresh_token = false;; fresh_token = true) {
      token_refused_ = false;
      auto granted = authorization(endpoint, path, timeout);
      if (!granted) {
        if (granted.error().kind != ErrorKind::lock_directory || token_refused_) {
          return granted.error(); // a wrong password is no outage
        }
        failures += (failures.empty() ? "" : "; ") + granted.error().message;
        break;
      }
      auto kept = kept_handle(endpoint);
      if (!kept) {
        return kept.error();
      }
      CurlEasy* easy = *kept;
      prepare(*easy, endpoint, path, text, timeout, *granted);
      Answer answer;
      easy->set(CURLOPT_TIMEOUT_MS, milliseconds(timeout));
      easy->set(CURLOPT_WRITEFUNCTION, append_to_string);
      easy->set(CURLOPT_WRITEDATA, &answer.body);
      const CURLcode code = easy->api().easy_perform(easy->get());
      if (code != CURLE_OK) {
        failures += (failures.empty() ? "" : "; ") + endpoint_context(name) + ": " +
                    easy->api().easy_strerror(code);
        break;
      }
      easy->api().easy_getinfo(easy->get(), CURLINFO_RESPONSE_CODE, &answer.status);
      Outcome outcome = interpret(answer);
      if (outcome.unauthenticated && !tokens_[endpoint].empty()) {
        tokens_[endpoint].clear(); // expired: authenticate again
        if (!fresh_token) {
          continue;
        }
      }
      if (outcome.failure == Failure::endpoint) {
        failures += (failures.empty() ? "" : "; ") + endpoint_context(name) + ": " + outcome.why;
        break;
      }
      if (outcome.failure == Failure::request) {
        return Error{ErrorKind::lock_directory, endpoint_context(name) + ": " + outcome.why};
      }
      current_ = endpoint;
      return std::move(outcome.document);
    }
  }
  return Error{ErrorKind::lock_directory, std::string(no_endpoint_text) + failures};
}

Result<CurlEasy> Client::stream_request(const std::string& path, const std::string& body,
                                        core::Seconds timeout) {
  auto granted = authorization(current_, path, timeout);
  if (!granted) {
    return granted.error();
  }
  auto easy = CurlEasy::make(); // a connection of its own: the stream stays open
  if (!easy) {
    return easy.error();
  }
  prepare(*easy, current_, path, body, timeout, *granted);
  return easy;
}

} // namespace buildlock::etcd
