// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ports/file_hasher.h"

namespace ubc {

// SHA-256 through OpenSSL's EVP. The copy is read from the device by a DeviceReader
// (O_DIRECT where the filesystem allows it, read ahead on a second thread for big files);
// its cached pages are dropped first in case it has to read through the page cache. In
// compare_and_hash the caller's thread reads the source's block (mostly from the page
// cache, the copy having just read it), compares it with the copy's and hashes the copy's.
class OpensslFileHasher final : public FileHasher {
 public:
  HashOutcome hash_copy(const std::string& copy, const HashProgress& progress) override;
  CompareOutcome compare_and_hash(const std::string& source, const std::string& copy,
                                  const HashProgress& progress) override;
};

// The bytes as lower-case hex digits, two per byte.
std::string lower_hex(const unsigned char* bytes, std::size_t size);

// SHA-256 of data in memory, as 64 lower-case hex digits. Throws std::runtime_error if
// OpenSSL fails.
std::string sha256_hex(std::string_view data);

}  // namespace ubc
