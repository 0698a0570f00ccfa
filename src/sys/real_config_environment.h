// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

#include "ports/config_environment.h"

namespace ubc {

// Answers config validation's questions with stat(2), following symlinks as every later
// use of the path will. A path that cannot be stat'ed is "not a directory" and has no mode.
class RealConfigEnvironment : public ConfigEnvironment {
 public:
  bool is_directory(const std::string& path) const override;
  std::optional<unsigned> file_mode(const std::string& path) const override;
};

}  // namespace ubc
