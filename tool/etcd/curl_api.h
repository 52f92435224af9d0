// libcurl, loaded when the first etcd:// location is used (os/shared_library.h says why it is
// not linked), and small owners for its handles.
//
// Only the functions buildlock calls are looked up; the types and constants come from
// <curl/curl.h>, whose ABI libcurl 7 keeps stable (soname libcurl.so.4).
#pragma once

#include "os/result.h"

#include <curl/curl.h>
#include <utility>

namespace buildlock::etcd {

struct CurlApi {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_reset) easy_reset = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  decltype(&curl_multi_init) multi_init = nullptr;
  decltype(&curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&curl_multi_perform) multi_perform = nullptr;
  decltype(&curl_multi_poll) multi_poll = nullptr;
  decltype(&curl_multi_info_read) multi_info_read = nullptr;
};

// The loaded library, initialised once for the whole process (curl_global_init is not
// thread-safe; buildlock calls it from its one thread). Error: ErrorKind::lock_directory, since
// without libcurl an etcd location cannot be used.
Result<const CurlApi*> curl_api();

// Sole owner of one easy handle; cleans it up when destroyed. Move-only.
class CurlEasy {
public:
  // An error when libcurl cannot be loaded or gives no handle.
  static Result<CurlEasy> make();
  CurlEasy(CurlEasy&& other) noexcept
      : api_(other.api_), handle_(std::exchange(other.handle_, nullptr)),
        headers_(std::exchange(other.headers_, nullptr)) {}
  CurlEasy& operator=(CurlEasy&&) = delete;
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;
  ~CurlEasy();

  CURL* get() const { return handle_; }
  const CurlApi& api() const { return *api_; }
  template <class Value> void set(CURLoption option, Value value) const {
    api_->easy_setopt(handle_, option, value);
  }
  // Adds a request header; the list lives as long as the handle (or until reset()).
  void add_header(const char* line);
  // Forgets every option and header, keeping the connections the handle made (libcurl reuses
  // an open connection to the same endpoint for the next request).
  void reset();

private:
  CurlEasy(const CurlApi* api, CURL* handle) : api_(api), handle_(handle) {}
  const CurlApi* api_;
  CURL* handle_;
  curl_slist* headers_ = nullptr;
};

// Sole owner of one multi handle (for streams that must be read while doing other things: the
// etcd watch); cleans it up when destroyed. Easy handles added to it must be removed first.
class CurlMulti {
public:
  static Result<CurlMulti> make();
  CurlMulti(CurlMulti&& other) noexcept
      : api_(other.api_), handle_(std::exchange(other.handle_, nullptr)) {}
  CurlMulti& operator=(CurlMulti&&) = delete;
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  ~CurlMulti();

  CURLM* get() const { return handle_; }
  const CurlApi& api() const { return *api_; }

private:
  CurlMulti(const CurlApi* api, CURLM* handle) : api_(api), handle_(handle) {}
  const CurlApi* api_;
  CURLM* handle_;
};

} // namespace buildlock::etcd
