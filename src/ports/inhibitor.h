// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

namespace ubc {

// A logind shutdown/sleep inhibitor lock held while copying.
class Inhibitor {
 public:
  virtual ~Inhibitor() = default;
  // Returns an error text when no lock could be taken (e.g. logind absent): a warning.
  virtual std::optional<std::string> acquire(const std::string& why) = 0;
  virtual void release() = 0;
};

}  // namespace ubc
