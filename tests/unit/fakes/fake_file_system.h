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
    if (special_.count(path)) return PathKind::other;
    if (files_.count(path)) return PathKind::file;
    if (dirs_.count(path) || has_children(path)) return PathKind::directory;
    return PathKind::missing;
  }
  bool readable_directory(const std::string& path) override {
    return kind(path) == PathKind::directory && !unreadable_.count(path);
  }
  std::vector<std::string> list_entries(const std::string& path) override {
    std::set<std::string> children;
    const std::string prefix = path + "/";
    auto add = [&](const std::string& p) {
      if (p.rfind(prefix, 0) != 0) return;
      const std::string rest = p.substr(prefix.size());
      children.insert(rest.substr(0, rest.find('/')));
    };
    for (const auto& [p, _] : files_) add(p);
    for (const auto& p : dirs_) add(p);
    return {children.begin(), children.end()};
  }
  std::uint64_t count_files_recursive(const std::string& path, const std::vector<std::string>& leave_out) override {
    std::uint64_t n = 0;
    for (const auto& [p, _] : files_)
      if (below(path, p, leave_out)) ++n;
    return n;
  }
  void walk_files(const std::string& root, const std::vector<std::string>& leave_out, const FileVisitor& visit) override {
    for (const auto& [p, content] : files_)
      if (below(root, p, leave_out) && !not_regular_.count(p)) visit(p.substr(root.size() + 1), stamp_of(p));
  }
  void walk_special(const std::string& root, const std::vector<std::string>& leave_out,
                    const SpecialVisitor& visit) override {
    for (const auto& [p, kind] : special_)
      if (below(root, p, leave_out)) visit(p.substr(root.size() + 1), kind);
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
  std::optional<std::string> read_file(const std::string& path, std::uint64_t max_bytes) override {
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    if (not_regular_.count(path)) throw std::system_error(EINVAL, std::generic_category(), "'" + path + "' is not a regular file");
    if (*file_size(path) > max_bytes) throw std::system_error(EFBIG, std::generic_category(), "read " + path);
    return it->second;
  }
  void write_atomic(const std::string& path, const std::string& data, unsigned) override {
    fail_if_broken(path);
    files_[path] = data;
    writes_.push_back(path);
    if (journal_) journal_->push_back("write " + path);
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

  // path lies below root, and not below one of the entries left out of root.
  static bool below(const std::string& root, const std::string& path, const std::vector<std::string>& leave_out) {
    if (path.rfind(root + "/", 0) != 0) return false;
    const std::string rest = path.substr(root.size() + 1);
    const std::string top = rest.substr(0, rest.find('/'));
    for (const auto& s : leave_out)
      if (s == top) return false;
    return true;
  }
  FileStamp stamp_of(const std::string& path) {
    auto it = mtimes_.find(path);
    return FileStamp{*file_size(path), it == mtimes_.end() ? 0 : it->second};
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
  std::map<std::string, std::int64_t> mtimes_;  // walk_files' stamps; 0 when not set
  std::map<std::string, SpecialKind> special_;  // symlinks, device nodes, FIFOs, sockets
  std::set<std::string> not_regular_;  // a FIFO or symlink in place of the file
  std::vector<std::string> broken_prefixes_;  // writes below these fail with EIO
  std::vector<std::string> writes_;
  std::vector<std::string>* journal_ = nullptr;  // shared with other fakes: the order of effects
  int space_calls_ = 0;
};

}  // namespace ubc::test
