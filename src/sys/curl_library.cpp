// SPDX-License-Identifier: MIT
// libcurl, loaded when the first mail or ping needs it rather than when the process starts.
//
// Linked normally, libcurl brings about 25 libraries (GnuTLS, Kerberos, LDAP, libssh2,
// librtmp, ...) whose relocations and constructors the dynamic loader runs at start-up:
// about 3.7 MiB of the copier's resident memory during every copy, although only the mail
// at the end needs any of it (DESIGN.md §11: the copier's own peak RSS ≤ 16 MiB). These
// definitions take the place of the libcurl functions that curl_transport.cpp and
// curl_pinger.cpp call; the first call loads libcurl.so.4 and each forwards to the real
// function. A libcurl that cannot be loaded fails that call as libcurl itself reports
// failure (CURLE_FAILED_INIT, a null handle), and curl_easy_strerror says why.
#include <dlfcn.h>

#include <curl/curl.h>

#include <cstdarg>
#include <mutex>
#include <string>

namespace {

constexpr const char* kLibrary = "libcurl.so.4";

struct CurlFunctions {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  std::string load_error;  // empty when every function was found
};

template <typename F>
bool find(void* library, const char* name, F& function, std::string& error) {
  function = reinterpret_cast<F>(dlsym(library, name));
  if (function == nullptr && error.empty()) error = std::string("dlsym(") + name + "): " + dlerror();
  return function != nullptr;
}

// Loaded once and never unloaded: handles and lists may outlive any caller.
const CurlFunctions& curl_functions() {
  static CurlFunctions functions;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char* why = dlerror();
      functions.load_error = std::string("dlopen(") + kLibrary + "): " + (why != nullptr ? why : "failed");
      return;
    }
    std::string& error = functions.load_error;
    find(library, "curl_global_init", functions.global_init, error);
    find(library, "curl_easy_init", functions.easy_init, error);
    find(library, "curl_easy_cleanup", functions.easy_cleanup, error);
    find(library, "curl_easy_setopt", functions.easy_setopt, error);
    find(library, "curl_easy_getinfo", functions.easy_getinfo, error);
    find(library, "curl_easy_perform", functions.easy_perform, error);
    find(library, "curl_easy_strerror", functions.easy_strerror, error);
    find(library, "curl_slist_append", functions.slist_append, error);
    find(library, "curl_slist_free_all", functions.slist_free_all, error);
  });
  return functions;
}

bool loaded() { return curl_functions().load_error.empty(); }

}  // namespace

extern "C" {

CURLcode curl_global_init(long flags) {
  return loaded() ? curl_functions().global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init(void) { return loaded() ? curl_functions().easy_init() : nullptr; }

// A handle exists only if libcurl was loaded.
void curl_easy_cleanup(CURL* curl) {
  if (curl != nullptr) curl_functions().easy_cleanup(curl);
}

// Every option takes exactly one argument, whose type its number's range tells
// (CURLOPTTYPE_* in curl.h); libcurl reads it the same way.
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  if (!loaded()) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = curl_functions().easy_setopt(curl, option, va_arg(args, long));
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    rc = curl_functions().easy_setopt(curl, option, va_arg(args, curl_off_t));
  } else {
    // Object, function and blob options: a pointer.
    rc = curl_functions().easy_setopt(curl, option, va_arg(args, void*));
  }
  va_end(args);
  return rc;
}

// Every CURLINFO_* takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  if (!loaded()) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, info);
  const CURLcode rc = curl_functions().easy_getinfo(curl, info, va_arg(args, void*));
  va_end(args);
  return rc;
}

CURLcode curl_easy_perform(CURL* curl) {
  return loaded() ? curl_functions().easy_perform(curl) : CURLE_FAILED_INIT;
}

const char* curl_easy_strerror(CURLcode code) {
  if (!loaded()) return curl_functions().load_error.c_str();
  return curl_functions().easy_strerror(code);
}

struct curl_slist* curl_slist_append(struct curl_slist* list, const char* text) {
  return loaded() ? curl_functions().slist_append(list, text) : nullptr;
}

// A list exists only if libcurl was loaded.
void curl_slist_free_all(struct curl_slist* list) {
  if (list != nullptr) curl_functions().slist_free_all(list);
}

}  // extern "C"
