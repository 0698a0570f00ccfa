// SPDX-License-Identifier: MIT
// A monitoring ping (ping-url): one HTTP GET that tells a dead man's switch such as
// Healthchecks that a copy started or ended.
#pragma once

#include <optional>
#include <string>

namespace ubc {

class Pinger {
 public:
  virtual ~Pinger() = default;
  // nullopt: the server answered with a success status; otherwise why not. Never throws:
  // monitoring must not touch the copy.
  virtual std::optional<std::string> ping(const std::string& url) = 0;
};

}  // namespace ubc
