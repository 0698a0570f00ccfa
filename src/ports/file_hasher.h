// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace ubc {

struct HashOutcome {
  enum class Kind {
    ok,
    missing,    // no such file
    not_regular,  // a symlink, FIFO, device node or directory in its place
    error,      // it could not be read: error says why
    cancelled,  // the progress callback asked to stop
  };
  Kind kind = Kind::ok;
  std::string sha256;  // 64 lower-case hex digits when ok (and, for compare_and_hash, equal)
  std::string error;
  std::uint64_t bytes = 0;  // bytes read
};

// A copy read back beside its source.
struct CompareOutcome {
  // How reading the source went; it is compared, not hashed, so it carries no sum.
  HashOutcome source;
  // How reading the copy went; its sum when it was read through and equals the source.
  HashOutcome copy;
  // Both read through, the same length and byte for byte the same.
  bool equal = false;
};

// Called with the bytes read so far of the copy; returning false stops the reading.
using HashProgress = std::function<bool(std::uint64_t bytes_read)>;

// SHA-256 of whole files. A copy on the disk is read from the device, never from the page
// cache: its cached pages are dropped first (the caller has synced the filesystem).
// Files are opened O_NOFOLLOW | O_NONBLOCK and must be regular files.
class FileHasher {
 public:
  virtual ~FileHasher() = default;
  virtual HashOutcome hash_copy(const std::string& copy, const HashProgress& progress) = 0;
  // Reads the copy and compares it with the source block by block, hashing only the copy
  // (for the manifest): the source's sum would only be compared with the copy's. Reading
  // stops at the first difference. A source that cannot be opened (missing, not a regular
  // file, unreadable) leaves the copy hashed on its own. Progress follows the copy.
  virtual CompareOutcome compare_and_hash(const std::string& source, const std::string& copy,
                                          const HashProgress& progress) = 0;
};

}  // namespace ubc
