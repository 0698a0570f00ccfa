// SPDX-License-Identifier: MIT
// The Pinger port on libcurl: GET, at most 3 tries of 10 seconds each, no redirects.
#pragma once

#include "ports/pinger.h"

namespace ubc {

class CurlPinger final : public Pinger {
 public:
  std::optional<std::string> ping(const std::string& url) override;
};

}  // namespace ubc
