// SPDX-License-Identifier: MIT
// What `veeam-lock` and `veeam-unlock` do (DESIGN.md §7), against the LeaseStore seam so
// that every wait, timeout and message can be tested with a fake clock.
//
// Both run as Veeam pre-/post-job scripts: Veeam stops a script after 10 minutes by default
// and shows its output in the job log, so each outcome is one line, written at once, and
// every wait is bounded well inside that limit.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "ports/clock.h"
#include "ports/mailer.h"
#include "ports/veeam_gate.h"

namespace ubc {

// Whether a copier holds the repository (its copier.active lock) and what it wrote there.
struct CopierState {
  bool active = false;
  int pid = 0;       // 0: unknown
  std::string disk;  // may be empty
};

// "the copy to disk 1234-ABCD (pid 77)"
std::string describe_copier(const CopierState& copier);

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

// The veeam-lock side of the lease directory; the real one is sys/lease_directory. Every
// member but copier_state() runs under the coordination lock that VeeamGate::try_enter
// takes too. Failures throw (std::system_error from the real one).
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

// How long veeam-lock waits for a copier to pause when copy-yields-to-veeam = yes. The
// copier notices a lease within a second, then stops rsync (SIGTERM, SIGKILL after 10 s)
// and leaves; 2 minutes also covers an rsync stuck for a while flushing to a slow USB disk,
// and leaves 8 of Veeam's 10 minutes so that our message, not Veeam's timeout, ends the
// script.
inline constexpr std::chrono::seconds kCopierPauseTimeout{120};
// Veeam's default limit for a job script.
inline constexpr int kVeeamScriptTimeoutMinutes = 10;

struct VeeamCommandEnv {
  const Config& config;
  std::string host;  // this server, for mail subjects
  LeaseStore& store;
  Clock& clock;
  Mailer& mailer;
  std::ostream& out;  // outcome lines (Veeam's job log)
  std::ostream& err;  // warnings and errors
};

// veeam-lock --job J: 0 when the lease is held and no copier reads the repository;
// 1 (and a mail) when the lease could not be created; 75 (and a mail) when the copier did
// not pause or finish in time; 2 for a bad job name.
int run_veeam_lock(const VeeamCommandEnv& env, const std::string& job);
// veeam-unlock --job J: 0 when a lease was removed or there was none (a warning);
// 1 (and a mail) when it could not be removed; 2 for a bad job name.
int run_veeam_unlock(const VeeamCommandEnv& env, const std::string& job);
// veeam-lock --list: the leases and whether a copier is reading; 1 when unreadable.
int run_veeam_list(const VeeamCommandEnv& env);

}  // namespace ubc
