// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <set>
#include <system_error>
#include <vector>

#include "ports/file_system.h"

namespace ubc::test {

// An in-memory tree of files (path -> content) and directories. A directory exists when
// listed in dirs_ or when a file lies below it.
class FakeFileSystem final : public FileSystem {
 public:
  PathKind kind(const std::string& path) override {
    if (files_.count(path)) return PathKind::file;
    if (dirs_.count(path) || has_children(path)) return PathKind::directory;
    return PathKind::missing;
  }
  bool readable_directory(const std::string& path) override {
    return kind(path) == PathKind::directory && !unreadable_.count(path);
  }
  std::uint64_t count_entries(const std::string& path) override {
    std::set<std::string> children;
    const std::string prefix = path + "/";
    auto add = [&](const std::string& p) {
      if (p.rfind(prefix, 0) != 0) return;
      const std::string rest = p.substr(prefix.size());
      children.insert(rest.substr(0, rest.find('/')));
    };
    for (const auto& [p, _] : files_) add(p);
    for (const auto& p : dirs_) add(p);
    return children.size();
  }
  std::uint64_t count_files_recursive(const std::string& path) override {
    std::uint64_t n = 0;
    for (const auto& [p, _] : files_)
      if (p.rfind(path + "/", 0) == 0) ++n;
    return n;
  }
  bool is_mountpoint(const std::string& path) override { return mountpoints_.count(path) > 0; }
  SpaceInfo space(const std::string& path) override {
    ++space_calls_;
    auto it = space_.find(path);
    return it == space_.end() ? SpaceInfo{1ULL << 40, 2ULL << 40} : it->second;
  }
  std::optional<std::uint64_t> file_size(const std::string& path) override {
    if (auto it = sizes_.find(path); it != sizes_.end()) return it->second;
    if (auto it = files_.find(path); it != files_.end()) return it->second.size();
    return std::nullopt;
  }
  std::optional<std::string> read_file(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second;
  }
  void write_atomic(const std::string& path, const std::string& data, unsigned) override {
    fail_if_broken(path);
    files_[path] = data;
    writes_.push_back(path);
  }
  void append(const std::string& path, const std::string& data) override {
    fail_if_broken(path);
    files_[path] += data;
  }
  bool remove(const std::string& path) override { return files_.erase(path) > 0; }
  void make_directories(const std::string& path, unsigned) override {
    fail_if_broken(path);
    dirs_.insert(path);
  }

  bool has_children(const std::string& path) const {
    const std::string prefix = path + "/";
    for (const auto& [p, _] : files_)
      if (p.rfind(prefix, 0) == 0) return true;
    for (const auto& p : dirs_)
      if (p.rfind(prefix, 0) == 0) return true;
    return false;
  }
  void fail_if_broken(const std::string& path) {
    for (const auto& prefix : broken_prefixes_)
      if (path.rfind(prefix, 0) == 0) throw std::system_error(EIO, std::generic_category(), "write " + path);
  }

  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
  std::set<std::string> mountpoints_;
  std::set<std::string> unreadable_;
  std::map<std::string, SpaceInfo> space_;
  std::map<std::string, std::uint64_t> sizes_;
  std::vector<std::string> broken_prefixes_;  // writes below these fail with EIO
  std::vector<std::string> writes_;
  int space_calls_ = 0;
};

}  // namespace ubc::test
