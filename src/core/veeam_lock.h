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
#include <string>

#include "core/config.h"
#include "ports/clock.h"
#include "ports/lease_store.h"
#include "ports/mailer.h"

namespace ubc {

// "the copy to disk 1234-ABCD (pid 77)"
std::string describe_copier(const CopierState& copier);

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
