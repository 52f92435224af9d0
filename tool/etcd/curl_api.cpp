#include "etcd/curl_api.h"

#include "os/shared_library.h"

#include <optional>

namespace buildlock::etcd {
namespace {

template <class Function>
bool look_up(const os::SharedLibrary& library, const char* name, Function& out) {
  out = reinterpret_cast<Function>(library.symbol(name));
  return out != nullptr;
}

Result<CurlApi> load(const os::SharedLibrary& library) {
  CurlApi api;
  const bool all = look_up(library, "curl_global_init", api.global_init) &&
                   look_up(library, "curl_easy_init", api.easy_init) &&
                   look_up(library, "curl_easy_cleanup", api.easy_cleanup) &&
                   look_up(library, "curl_easy_reset", api.easy_reset) &&
                   look_up(library, "curl_easy_setopt", api.easy_setopt) &&
                   look_up(library, "curl_easy_perform", api.easy_perform) &&
                   look_up(library, "curl_easy_getinfo", api.easy_getinfo) &&
                   look_up(library, "curl_easy_strerror", api.easy_strerror) &&
                   look_up(library, "curl_slist_append", api.slist_append) &&
                   look_up(library, "curl_slist_free_all", api.slist_free_all) &&
                   look_up(library, "curl_multi_init", api.multi_init) &&
                   look_up(library, "curl_multi_cleanup", api.multi_cleanup) &&
                   look_up(library, "curl_multi_add_handle", api.multi_add_handle) &&
                   look_up(library, "curl_multi_remove_handle", api.multi_remove_handle) &&
                   look_up(library, "curl_multi_perform", api.multi_perform) &&
                   look_up(library, "curl_multi_poll", api.multi_poll) && // libcurl >= 7.66
                   look_up(library, "curl_multi_info_read", api.multi_info_read);
  if (!all) {
    return Error{ErrorKind::lock_directory,
                 "the libcurl found is too old for etcd locations (7.66 or later is needed)"};
  }
  return api;
}

} // namespace

Result<const CurlApi*> curl_api() {
  // Loaded once and never unloaded, not even at exit: handles may be cleaned up as late as static
  // destruction, and unloading libcurl and the libraries it brought (about 25) cost a releasing
  // holder 4 ms between its last answer and its exit, on the next holder's critical path.
  static os::SharedLibrary* library = nullptr;
  static CurlApi api;
  static std::optional<Error> failure;
  if (failure) {
    return *failure;
  }
  if (!library) {
    auto opened = os::SharedLibrary::open({"libcurl.so.4", "libcurl.so", "libcurl.4.dylib", "libcurl-x64.dll", "libcurl-4.dll", "libcurl.dll"});
    if (!opened) {
      failure = Error{ErrorKind::lock_directory,
                      "etcd locations need libcurl (Debian: libcurl4): " + opened.error().message};
      return *failure;
    }
    auto loaded = load(*opened);
    if (!loaded) {
      failure = loaded.error();
      return *failure;
    }
    if (loaded->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      failure = Error{ErrorKind::lock_directory, "libcurl failed to initialise"};
      return *failure;
    }
    api = *loaded;
    library = new os::SharedLibrary(std::move(*opened)); // deliberately never deleted (above)
  }
  return &api;
}

Result<CurlEasy> CurlEasy::make() {
  auto api = curl_api();
  if (!api) {
    return api.error();
  }
  CURL* handle = (*api)->easy_init();
  if (handle == nullptr) {
    return Error{ErrorKind::system, "libcurl gave no handle (out of memory?)"};
  }
  return CurlEasy(*api, handle);
}

CurlEasy::~CurlEasy() {
  if (handle_ != nullptr) {
    api_->easy_cleanup(handle_);
  }
  if (headers_ != nullptr) {
    api_->slist_free_all(headers_);
  }
}

void CurlEasy::reset() {
  api_->easy_reset(handle_);
  if (headers_ != nullptr) {
    api_->slist_free_all(headers_);
    headers_ = nullptr;
  }
}

void CurlEasy::add_header(const char* line) {
  if (curl_slist* extended = api_->slist_append(headers_, line)) {
    headers_ = extended;
    set(CURLOPT_HTTPHEADER, headers_);
  }
}

Result<CurlMulti> CurlMulti::make() {
  auto api = curl_api();
  if (!api) {
    return api.error();
  }
  CURLM* handle = (*api)->multi_init();
  if (handle == nullptr) {
    return Error{ErrorKind::system, "libcurl gave no multi handle (out of memory?)"};
  }
  return CurlMulti(*api, handle);
}

CurlMulti::~CurlMulti() {
  if (handle_ != nullptr) {
    api_->multi_cleanup(handle_);
  }
}

} // namespace buildlock::etcd
