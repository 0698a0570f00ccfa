// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ports/pinger.h"

namespace ubc::test {

// Records every URL; error_ set: every ping fails with it.
class FakePinger final : public Pinger {
 public:
  std::optional<std::string> ping(const std::string& url) override {
    urls_.push_back(url);
    return error_;
  }
  std::vector<std::string> urls_;
  std::optional<std::string> error_;
};

}  // namespace ubc::test
