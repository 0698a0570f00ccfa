// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "ports/enrollment_store.h"

namespace ubc {

// One small JSON file per enrolled disk, `<state-directory>/enrolled/<uuid>.json` (the
// directory 0700, the files 0600, written atomically and fsynced); secrets from
// getrandom(2), digests by OpenSSL.
class DirectoryEnrollmentStore final : public EnrollmentStore {
 public:
  explicit DirectoryEnrollmentStore(const std::string& state_directory);
  DirectoryEnrollmentStore(const DirectoryEnrollmentStore&) = delete;
  DirectoryEnrollmentStore& operator=(const DirectoryEnrollmentStore&) = delete;

  std::optional<Enrollment> find(const std::string& uuid) override;
  std::vector<Enrollment> list() override;
  void save(const Enrollment& enrollment) override;
  bool remove(const std::string& uuid) override;
  std::string new_secret() override;
  std::string digest(const std::string& text) override;

  const std::string& directory() const { return dir_; }

 private:
  std::optional<Enrollment> read(const std::string& name);
  std::string dir_;
};

}  // namespace ubc
