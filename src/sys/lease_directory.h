// SPDX-License-Identifier: MIT
// The Veeam lease directory as both of its users open it: the copier's gate
// (sys/directory_veeam_gate) and veeam-lock's store (sys/directory_lease_store). Its
// layout and the protocol are in docs/veeam-protocol.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "ports/veeam_gate.h"
#include "sys/unique_fd.h"

namespace ubc {

// Where the directory and its coordination file are, from the config.
struct LeaseDirectorySettings {
  explicit LeaseDirectorySettings(const Config& config);
  std::string path_of(std::string_view name) const { return directory + "/" + std::string(name); }

  std::string directory;
  std::string coordination_path;
  int ttl_hours;  // also the life of a lease file that cannot be read
};

// Opens the directory, creating it (mode 0755) when missing.
UniqueFd open_lease_directory(const std::string& directory);

struct LeaseScan {
  std::vector<Lease> live;     // oldest first
  std::vector<Lease> expired;  // already removed
};

// One check-and-act: the directory open and the coordination flock held while the object
// lives. Taking the flock waits up to 30 s, then throws. Every member throws
// std::system_error naming the failing call.
class LockedLeaseDirectory {
 public:
  explicit LockedLeaseDirectory(const LeaseDirectorySettings& settings);
  LockedLeaseDirectory(const LockedLeaseDirectory&) = delete;
  LockedLeaseDirectory& operator=(const LockedLeaseDirectory&) = delete;

  int fd() const { return dir_.get(); }
  // Reads every lease and removes the expired ones, and the temporary files of writers
  // that died. A file that cannot be read or parsed is a lease of an unknown job that
  // expires ttl_hours after its mtime (it keeps copies out meanwhile).
  LeaseScan scan_and_clean();
  // Removes the file `name`; false when it was gone already.
  bool remove(const std::string& name);

 private:
  const LeaseDirectorySettings& settings_;
  UniqueFd dir_;
  UniqueFd lock_;
};

// The live leases, for those who only look (`status`, `serve`): no lock is taken and
// nothing is created or removed, so it works without write access. Expired leases are
// left out but stay until a copier or veeam-lock cleans up.
std::vector<Lease> read_live_leases(const LeaseDirectorySettings& settings);

}  // namespace ubc
