// SPDX-License-Identifier: MIT
#include "core/monitoring_ping.h"

namespace ubc {
namespace {

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string start_ping_url(const std::string& base) { return without_trailing_slash(base) + "/start"; }

std::optional<std::string> end_ping_url(const std::string& base, Outcome outcome) {
  switch (outcome) {
    case Outcome::success:
    case Outcome::warning: return without_trailing_slash(base);
    case Outcome::failed:
    case Outcome::aborted:
    case Outcome::gave_up: return without_trailing_slash(base) + "/fail";
    case Outcome::not_whitelisted:
    case Outcome::already_running: break;
  }
  return std::nullopt;
}

std::optional<std::string> ping_monitor(Pinger& pinger, const std::string& url) {
  const auto error = pinger.ping(url);
  if (!error) return std::nullopt;
  return "The monitoring ping to '" + url + "' failed (" + *error +
         "); the copy is not affected, but the monitor may report this run wrongly";
}

}  // namespace ubc
