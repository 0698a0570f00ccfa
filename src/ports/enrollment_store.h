// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ubc {

// What the server keeps about an enrolled disk (DESIGN.md §10). The secret itself is only
// on the disk: whoever reads the server's state learns nothing that would let them make a
// disk pass.
struct Enrollment {
  std::string uuid;   // the filesystem UUID, lower-case
  std::string label;  // as udev reported it when the disk was enrolled
  std::int64_t enrolled_at = 0;  // unix seconds
  std::string secret_sha256;     // 64 lower-case hex digits
};

// The enrolled disks under state-directory, and the two pieces of cryptography enrollment
// needs. Errors throw std::system_error (std::runtime_error for a damaged record).
class EnrollmentStore {
 public:
  virtual ~EnrollmentStore() = default;
  // The record of the disk with this UUID (case-insensitive); nullopt if it is not enrolled.
  virtual std::optional<Enrollment> find(const std::string& uuid) = 0;
  // Every record, ordered by UUID.
  virtual std::vector<Enrollment> list() = 0;
  // Stores the record (durably), replacing one for the same UUID. Throws
  // std::invalid_argument for a UUID that cannot name a record.
  virtual void save(const Enrollment& enrollment) = 0;
  // False if there was none.
  virtual bool remove(const std::string& uuid) = 0;
  // A fresh secret: 256 random bits from the kernel, as 64 lower-case hex digits.
  virtual std::string new_secret() = 0;
  // SHA-256 of the text, as 64 lower-case hex digits.
  virtual std::string digest(const std::string& text) = 0;
};

}  // namespace ubc
