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
  std::string sha256;  // 64 lower-case hex digits when ok
  std::string error;
  std::uint64_t bytes = 0;  // bytes read
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
  // Both at once, so that reading the source and the copy overlap; progress follows the copy.
  virtual std::pair<HashOutcome, HashOutcome> hash_source_and_copy(const std::string& source,
                                                                   const std::string& copy,
                                                                   const HashProgress& progress) = 0;
};

}  // namespace ubc
