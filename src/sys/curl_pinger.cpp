// SPDX-License-Identifier: MIT
#include "sys/curl_pinger.h"

#include <chrono>
#include <cstddef>
#include <thread>

#include "sys/curl_transport.h"

namespace ubc {
namespace {

constexpr int kTries = 3;
constexpr long kTimeoutSeconds = 10;
constexpr auto kPauseBetweenTries = std::chrono::seconds(1);

// The answer's body is of no interest; without a write function libcurl prints it to stdout.
std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

std::optional<std::string> try_once(const std::string& url) {
  const CurlPtr curl(curl_easy_init());
  if (!curl) return std::string("curl_easy_init failed");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // A redirect could lead anywhere; Healthchecks answers pings directly.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return std::string(curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) return "the server answered HTTP " + std::to_string(status);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CurlPinger::ping(const std::string& url) {
  std::optional<std::string> error;
  for (int attempt = 1; attempt <= kTries; ++attempt) {
    error = try_once(url);
    if (!error) return std::nullopt;
    if (attempt < kTries) std::this_thread::sleep_for(kPauseBetweenTries);
  }
  return *error + " (" + std::to_string(kTries) + " tries)";
}

}  // namespace ubc
