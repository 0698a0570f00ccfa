// SPDX-License-Identifier: MIT
// veeam-lock's side of the Veeam lease directory: lease files written and removed under the
// coordination lock, and a look at whether a copier holds copier.active. The protocol is
// in docs/veeam-protocol.md.
#pragma once

#include <string>

#include "core/config.h"
#include "ports/lease_store.h"
#include "sys/lease_directory.h"

namespace ubc {

// Every member throws std::system_error naming the failing call. Nothing is opened until
// the first call; the directory is created (mode 0755) when missing.
class DirectoryLeaseStore final : public LeaseStore {
 public:
  explicit DirectoryLeaseStore(const Config& config);

  LeaseCreated create_lease(const std::string& job) override;
  CopierState copier_state() override;
  bool remove_lease(const Lease& lease) override;
  LeaseRemoval remove_oldest_lease(const std::string& job) override;
  LeaseListing list_leases() override;

 private:
  Lease write_lease(int dir_fd, const std::string& job);
  CopierState probe_copier(int dir_fd);

  LeaseDirectorySettings settings_;
};

}  // namespace ubc
