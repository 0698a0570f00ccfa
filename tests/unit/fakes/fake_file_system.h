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
  void walk_directories(const std::string& root, const std::vector<std::string>& leave_out,
                        const DirectoryVisitor& visit) override {
    // Listed directories and those implied by what lies below them, parents first.
    std::set<std::string> found;
    auto add_parents = [&](const std::string& p, bool itself) {
      if (!below(root, p, leave_out)) return;
      std::string rel = p.substr(root.size() + 1);
      if (!itself) rel = rel.find('/') == std::string::npos ? "" : rel.substr(0, rel.rfind('/'));
      for (std::size_t at = 0; !rel.empty() && at != std::string::npos;) {
        at = rel.find('/', at + 1);
        found.insert(rel.substr(0, at));
      }
    };
    for (const auto& [p, _] : files_) add_parents(p, false);
    for (const auto& p : dirs_) add_parents(p, true);
    for (const auto& rel : found) visit(rel);
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
  void rename(const std::string& from, const std::string& to) override {
    fail_if_broken(to);
    const auto it = files_.find(from);
    if (it == files_.end()) throw std::system_error(ENOENT, std::generic_category(), "rename " + from);
    files_[to] = std::move(it->second);
    files_.erase(from);
    if (auto s = sizes_.extract(from)) sizes_[to] = s.mapped();
    if (auto m = mtimes_.extract(from)) mtimes_[to] = m.mapped();
    renames_.push_back(from + " -> " + to);
  }
  bool remove_empty_directory(const std::string& path) override {
    if (files_.count(path) || has_children(path) || dirs_.erase(path) == 0) return false;
    removed_dirs_.push_back(path);
    return true;
  }
  void make_directories(const std::string& path, unsigned) override {
    fail_if_broken(path);
    dirs_.insert(path);
  }

  void rename_no_replace(const std::string& from, const std::string& to) override {
    fail_if_broken(to);
    if (kind(to) != PathKind::missing || symlinks_.count(to))
      throw std::system_error(EEXIST, std::generic_category(), "rename '" + from + "' to '" + to + "'");
    if (kind(from) == PathKind::missing)
      throw std::system_error(ENOENT, std::generic_category(), "rename '" + from + "' to '" + to + "'");
    move_prefix(files_, from, to);
    move_prefix(mtimes_, from, to);
    move_prefix(sizes_, from, to);
    std::set<std::string> dirs;
    for (const auto& d : dirs_) dirs.insert(d == from || d.rfind(from + "/", 0) == 0 ? to + d.substr(from.size()) : d);
    dirs_ = std::move(dirs);
    if (journal_) journal_->push_back("rename " + from + " " + to);
  }
  void replace_symlink(const std::string& path, const std::string& target) override {
    fail_if_broken(path);
    symlinks_[path] = target;
    if (journal_) journal_->push_back("symlink " + path + " -> " + target);
  }
  bool remove_tree(const std::string& path) override {
    bool removed = false;
    for (auto it = files_.begin(); it != files_.end();)
      if (it->first.rfind(path + "/", 0) == 0) {
        it = files_.erase(it);
        removed = true;
      } else {
        ++it;
      }
    for (auto it = dirs_.begin(); it != dirs_.end();)
      if (*it == path || it->rfind(path + "/", 0) == 0) {
        it = dirs_.erase(it);
        removed = true;
      } else {
        ++it;
      }
    if (removed && journal_) journal_->push_back("remove-tree " + path);
    return removed;
  }
  // The sizes of the files below roots, those named in linked_elsewhere_ left out.
  std::uint64_t bytes_freed_by_removing(const std::vector<std::string>& roots) override {
    std::uint64_t freed = 0;
    for (const auto& root : roots)
      for (const auto& [p, content] : files_)
        if (p.rfind(root + "/", 0) == 0 && !linked_elsewhere_.count(p)) freed += *file_size(p);
    return freed;
  }

  // Shares blocks only within one of reflink_roots_ (a reflink-capable filesystem).
  bool clone_file(const std::string& from, const std::string& to) override {
    fail_if_broken(to);
    const auto it = files_.find(from);
    if (it == files_.end() || not_regular_.count(from))
      throw std::system_error(it == files_.end() ? ENOENT : EINVAL, std::generic_category(), "open '" + from + "'");
    if (kind(to.substr(0, to.rfind('/'))) != PathKind::directory)
      throw std::system_error(ENOENT, std::generic_category(), "mkostemp '" + to + "'");
    const auto root_of = [&](const std::string& path) -> std::string {
      for (const auto& root : reflink_roots_)
        if (path.rfind(root + "/", 0) == 0) return root;
      return {};
    };
    if (root_of(from).empty() || root_of(from) != root_of(to)) return false;
    const std::string content = it->second;
    files_[to] = content;
    not_regular_.erase(to);
    special_.erase(to);
    linked_elsewhere_.erase(to);  // an inode of its own
    if (const auto size = sizes_.find(from); size != sizes_.end())
      sizes_[to] = size->second;
    else
      sizes_.erase(to);
    mtimes_.erase(to);  // modified at the epoch, as the real clone is
    clones_.push_back(from + " -> " + to);
    if (journal_) journal_->push_back("clone " + from + " " + to);
    return true;
  }

  template <class Map>
  static void move_prefix(Map& map, const std::string& from, const std::string& to) {
    Map moved;
    for (auto it = map.begin(); it != map.end();) {
      if (it->first.rfind(from + "/", 0) == 0) {
        moved[to + it->first.substr(from.size())] = it->second;
        it = map.erase(it);
      } else if (it->first == from) {
        moved[to] = it->second;
        it = map.erase(it);
      } else {
        ++it;
      }
    }
    map.merge(moved);
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
  std::map<std::string, std::string> symlinks_;  // path -> target
  std::set<std::string> linked_elsewhere_;  // files whose blocks a removal does not free
  std::vector<std::string> broken_prefixes_;  // writes below these fail with EIO
  std::set<std::string> reflink_roots_;  // filesystems (their mount points) that can clone
  std::vector<std::string> clones_;  // "from -> to"
  std::vector<std::string> writes_;
  std::vector<std::string> renames_;  // "from -> to"
  std::vector<std::string> removed_dirs_;
  std::vector<std::string>* journal_ = nullptr;  // shared with other fakes: the order of effects
  int space_calls_ = 0;
};

}  // namespace ubc::test
