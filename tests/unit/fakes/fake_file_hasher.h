// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "fakes/fake_file_system.h"
#include "ports/file_hasher.h"

namespace ubc::test {

// Hashes the FakeFileSystem's files with a stand-in digest (64 hex digits, equal for equal
// content). corrupt_ makes a copy read "from the device" differ from what the file system
// holds, as a disk that corrupts data under a still-correct page cache does.
class FakeFileHasher final : public FileHasher {
 public:
  explicit FakeFileHasher(FakeFileSystem& fs) : fs_(fs) {}

  HashOutcome hash_copy(const std::string& copy, const HashProgress& progress) override {
    copies_read_.push_back(copy);
    return hash(copy, true, progress);
  }
  CompareOutcome compare_and_hash(const std::string& source, const std::string& copy,
                                  const HashProgress& progress) override {
    sources_read_.push_back(source);
    copies_read_.push_back(copy);
    CompareOutcome out;
    // The stand-in digest of the source stands in for its bytes: never reported, as the
    // real adapter reports no sum of the source.
    HashOutcome s = hash(source, false, [](std::uint64_t) { return true; });
    out.source.kind = s.kind;
    out.source.error = s.error;
    out.copy = hash(copy, true, progress);
    if (s.kind != HashOutcome::Kind::ok || out.copy.kind != HashOutcome::Kind::ok) return out;
    out.equal = s.sha256 == out.copy.sha256;
    if (!out.equal) out.copy.sha256.clear();  // reading stopped at the difference
    else out.source.bytes = s.bytes;
    return out;
  }

  static std::string digest(const std::string& content) {
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (std::uint64_t seed : {14695981039346656037ULL, 1ULL, 2ULL, 3ULL}) {
      std::uint64_t h = seed;
      for (unsigned char c : content) h = (h ^ c) * 1099511628211ULL;
      for (int i = 60; i >= 0; i -= 4) hex += digits[(h >> i) & 0xf];
    }
    return hex;
  }

  FakeFileSystem& fs_;
  std::set<std::string> corrupt_;     // read back from the device with other bytes
  std::set<std::string> unreadable_;  // read fails with an I/O error
  std::function<void(const std::string&)> before_read_;  // runs before a copy is read back
  std::vector<std::string> sources_read_;
  std::vector<std::string> copies_read_;

 private:
  HashOutcome hash(const std::string& path, bool from_device, const HashProgress& progress) {
    HashOutcome out;
    if (fs_.journal_ && from_device) fs_.journal_->push_back("read back " + path);
    if (from_device && before_read_) before_read_(path);
    const auto it = fs_.files_.find(path);
    if (it == fs_.files_.end()) {
      out.kind = HashOutcome::Kind::missing;
      out.error = "no such file";
      return out;
    }
    if (fs_.not_regular_.count(path)) {
      out.kind = HashOutcome::Kind::not_regular;
      out.error = "not a regular file";
      return out;
    }
    if (unreadable_.count(path)) {
      out.kind = HashOutcome::Kind::error;
      out.error = "read: Input/output error";
      return out;
    }
    std::string content = it->second;
    if (from_device && corrupt_.count(path)) content = content.empty() ? std::string(1, 1) : content.substr(1) + "!";
    out.bytes = content.size();
    if (!progress(out.bytes)) {
      out.kind = HashOutcome::Kind::cancelled;
      return out;
    }
    out.sha256 = digest(content);
    return out;
  }
};

}  // namespace ubc::test
