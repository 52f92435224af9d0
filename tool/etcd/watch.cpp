#include "etcd/watch.h"

#include "etcd/base64.h"
#include "etcd/json_fields.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace buildlock::etcd {

struct Watch::State {
  CurlMulti multi;
  CurlEasy easy;
  std::string buffer;
  std::vector<std::string> deleted; // not taken yet
  bool lost_track = false;
  bool added = false;

  State(CurlMulti m, CurlEasy e) : multi(std::move(m)), easy(std::move(e)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (added) {
      multi.api().multi_remove_handle(multi.get(), easy.get());
    }
  }

  // One complete message of the stream.
  void take(const std::string& line) {
    json message;
    try {
      message = json::parse(line);
    } catch (const json::exception&) {
      lost_track = true; // not what etcd sends: read the keys again rather than trust the stream
      return;
    }
    const json result = message.value("result", json::object());
    if (message.contains("error") || result.value("canceled", false) ||
        integer_field(result, "compact_revision") != 0) {
      lost_track = true;
      return;
    }
    if (const auto events = result.find("events"); events != result.end() && events->is_array()) {
      for (const json& event : *events) {
        if (string_field(event, "type") != "DELETE") {
          continue; // a put (PUT is the enum's zero value: no "type" at all)
        }
        const json kv = event.value("kv", json::object());
        auto key = base64_decode(string_field(kv, "key"));
        if (!key) {
          lost_track = true;
          return;
        }
        deleted.push_back(std::move(*key));
      }
    }
  }

  bool fired() const { return lost_track || !deleted.empty(); }
};

namespace {

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* state_pointer) {
  auto* state = static_cast<Watch::State*>(state_pointer);
  state->buffer.append(data, size * count);
  std::size_t newline = 0;
  while ((newline = state->buffer.find('\n')) != std::string::npos) {
    const std::string line = state->buffer.substr(0, newline);
    state->buffer.erase(0, newline + 1);
    if (line.find_first_not_of(" \r\t") != std::string::npos) {
      state->take(line);
    }
  }
  return size * count;
}

} // namespace

Watch::Watch(std::unique_ptr<State> state) : state_(std::move(state)) {}
Watch::Watch(Watch&&) noexcept = default;
Watch::~Watch() = default;

Result<Watch> Watch::start(Client& client, const std::string& key, const std::string& range_end,
                           std::int64_t start_revision, core::Seconds connect_timeout) {
  // NOPUT: a waiter needs deletions only; new keys in the range would wake it for nothing.
  json create = {{"key", base64_encode(key)},
                 {"start_revision", std::to_string(start_revision)},
                 {"filters", json::array({"NOPUT"})}};
  if (!range_end.empty()) {
    create["range_end"] = base64_encode(range_end);
  }
  const json body = {{"create_request", create}};
  auto easy = client.stream_request("/v3/watch", body.dump(), connect_timeout);
  if (!easy) {
    return easy.error();
  }
  auto multi = CurlMulti::make();
  if (!multi) {
    return multi.error();
  }
  auto state = std::make_unique<State>(std::move(*multi), std::move(*easy));
  state->easy.set(CURLOPT_WRITEFUNCTION, on_data);
  state->easy.set(CURLOPT_WRITEDATA, static_cast<void*>(state.get()));
  if (state->multi.api().multi_add_handle(state->multi.get(), state->easy.get()) != CURLM_OK) {
    return Error{ErrorKind::system, "libcurl refused the watch request"};
  }
  state->added = true;
  return Watch(std::move(state));
}

bool Watch::wait(os::TimePoint deadline, int wake_fd) {
  State& state = *state_;
  const CurlApi& api = state.multi.api();
  while (!state.fired()) {
    int running = 0;
    api.multi_perform(state.multi.get(), &running);
    int queued = 0;
    while (CURLMsg* message = api.multi_info_read(state.multi.get(), &queued)) {
      if (message->msg == CURLMSG_DONE) {
        state.lost_track = true; // the stream ended: the caller reads again
      }
    }
    if (state.fired() || running == 0) {
      state.lost_track = state.lost_track || running == 0;
      break;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - os::monotonic_now());
    if (left.count() <= 0) {
      return false;
    }
    curl_waitfd extra{};
    extra.fd = wake_fd;
    extra.events = CURL_WAIT_POLLIN;
    int ready = 0;
    api.multi_poll(state.multi.get(), wake_fd >= 0 ? &extra : nullptr, wake_fd >= 0 ? 1U : 0U,
                   static_cast<int>(std::min<long long>(left.count(), 1000)), &ready);
    if (wake_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN) != 0) {
      return false;
    }
  }
  return true;
}

bool Watch::fired() const {
  return state_->fired();
}

bool Watch::lost_track() const {
  return state_->lost_track;
}

std::vector<std::string> Watch::take_deleted() {
  return std::exchange(state_->deleted, {});
}

} // namespace buildlock::etcd
