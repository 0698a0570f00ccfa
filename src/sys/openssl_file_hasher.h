// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ports/file_hasher.h"

namespace ubc {

// SHA-256 through OpenSSL's EVP. The copy's cached pages are dropped before it is read
// (posix_fadvise DONTNEED after the caller's syncfs) and again behind the reader, so what
// is hashed comes from the device; the kernel's read-ahead keeps the device busy while a
// block is hashed, and the source is hashed on a second thread at the same time.
class OpensslFileHasher final : public FileHasher {
 public:
  HashOutcome hash_copy(const std::string& copy, const HashProgress& progress) override;
  std::pair<HashOutcome, HashOutcome> hash_source_and_copy(const std::string& source,
                                                           const std::string& copy,
                                                           const HashProgress& progress) override;
};

// The bytes as lower-case hex digits, two per byte.
std::string lower_hex(const unsigned char* bytes, std::size_t size);

// SHA-256 of data in memory, as 64 lower-case hex digits. Throws std::runtime_error if
// OpenSSL fails.
std::string sha256_hex(std::string_view data);

}  // namespace ubc
