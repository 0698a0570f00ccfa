// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ports/file_hasher.h"

namespace ubc {

// SHA-256 through OpenSSL's EVP. The copy's cached pages are dropped before it is read
// (posix_fadvise DONTNEED after the caller's syncfs) and again behind the reader, so what
// is hashed comes from the device. In compare_and_hash a second thread reads the copy's
// next block from the device while the caller's thread reads the source's block (mostly
// from the page cache, the copy having just read it), hashes the copy's and compares them.
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
