// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "ports/config_environment.h"

namespace ubc::test {

// A file system of named directories and files with modes; everything else is absent.
class FakeConfigEnvironment final : public ConfigEnvironment {
 public:
  bool is_directory(const std::string& path) const override { return directories_.count(path) > 0; }
  std::optional<unsigned> file_mode(const std::string& path) const override {
    if (directories_.count(path) > 0) return 0755U;
    const auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second;
  }

  FakeConfigEnvironment& directory(const std::string& path) {
    directories_.insert(path);
    return *this;
  }
  FakeConfigEnvironment& file(const std::string& path, unsigned mode) {
    files_[path] = mode;
    return *this;
  }

  std::set<std::string> directories_;
  std::map<std::string, unsigned> files_;
};

}  // namespace ubc::test
