// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

namespace ubc {

// What validating the configuration may need to know of the machine; the real one
// (sys/real_config_environment) asks the file system.
class ConfigEnvironment {
 public:
  virtual ~ConfigEnvironment() = default;
  virtual bool is_directory(const std::string& path) const = 0;
  // Permission bits of the file, or nullopt if it cannot be read.
  virtual std::optional<unsigned> file_mode(const std::string& path) const = 0;
};

}  // namespace ubc
