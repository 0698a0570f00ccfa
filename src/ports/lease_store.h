// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ports/veeam_gate.h"

namespace ubc {

// Whether a copier holds the repository (its copier.active lock) and what it wrote there.
struct CopierState {
  bool active = false;
  int pid = 0;       // 0: unknown
  std::string disk;  // may be empty
};

struct LeaseCreated {
  Lease lease;                 // ours
  std::vector<Lease> others;   // live leases of other calls at that moment
  std::vector<Lease> expired;  // found expired and removed
  CopierState copier;          // at the moment the lease was created
};

struct LeaseRemoval {
  std::optional<Lease> removed;  // nullopt: the job held no lease
  std::vector<Lease> expired;    // found expired and removed
  std::vector<Lease> live;       // what is left
};

struct LeaseListing {
  std::vector<Lease> live;
  std::vector<Lease> expired;  // found expired and removed
  CopierState copier;
};

// veeam-lock's side of the lease directory (docs/veeam-protocol.md); the real one is
// sys/directory_lease_store. Every member but copier_state() runs under the coordination
// lock that VeeamGate::try_enter takes too. Failures throw (std::system_error from the
// real one).
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // Removes expired leases, writes a lease for `job`, and tells whether a copier was
  // reading the repository at that moment (so it must be waited for).
  virtual LeaseCreated create_lease(const std::string& job) = 0;
  // Whether a copier reads the repository now. No coordination lock: only called while
  // our lease exists, and with it no copier can enter.
  virtual CopierState copier_state() = 0;
  // Removes this lease; false when it was gone already.
  virtual bool remove_lease(const Lease& lease) = 0;
  // Removes expired leases and the oldest live lease of `job` (core/lease.h
  // lease_to_remove).
  virtual LeaseRemoval remove_oldest_lease(const std::string& job) = 0;
  // Removes expired leases and lists the rest.
  virtual LeaseListing list_leases() = 0;
};

}  // namespace ubc
