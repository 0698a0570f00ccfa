// SPDX-License-Identifier: MIT
// The Veeam lease directory (DESIGN.md §7, config veeam-lockfiles): both sides of the
// protocol that keeps Veeam and the copier off the repository at the same time.
//
//   <veeam-lockfiles>/
//     <created>-<job>-<pid>-<nonce>.lease  one per veeam-lock call (core/lease.h format)
//     copier.active                        flock'ed (shared) by a copier reading the repository
//     coordination.lock                    veeam-lockfile-path: flock'ed for each check-and-act
//
// The invariant: a Veeam job writes only after veeam-lock returned 0, a copier reads only
// between try_enter() returning entered and leave(), and never both at once. It holds
// because (1) leases are created and copiers enter only under the coordination flock, so
// each sees what the other did before; (2) veeam-lock, having created its lease, returns 0
// only once no copier holds copier.active; (3) a copier that holds it while a lease
// exists notices the lease (inotify) and leaves. The kernel drops a dead copier's flock,
// and leases expire, so a crash on either side blocks nobody for good.
//
// How the copy job uses the gate (src/core/job.cpp, job_rsync.cpp):
//
//   LeaseDirectory gate(config, disk_uuid);
//   for (;;) {                                   // wait-for-veeam-minutes at most
//     GateResult r = gate.try_enter();
//     warn about each r.expired;                 // removed already; their post-job script never ran
//     if (r.entered) break;
//     show "waiting for Veeam job <r.live>";
//     gate.wait_for_change(1 s);                 // wakes early when a lease goes away;
//   }                                            // the 1 s cap also catches expiry
//   start rsync;
//   every ~0.5 s while rsync runs:
//     if (copy-yields-to-veeam && gate.lease_appeared()) {
//       stop rsync AND reap it;                  // it must not read any more...
//       gate.leave();                            // ...before this tells veeam-lock to go on
//       back to the try_enter loop above, then restart rsync (it continues where it was);
//     }
//   when the copy is done or aborted: stop rsync, then gate.leave() (the destructor also
//   leaves, and so does the kernel if the process dies).
//
// With copy-yields-to-veeam = no the job ignores lease_appeared(); veeam-lock then waits
// for leave() up to wait-for-backup-minutes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/veeam_lock.h"
#include "ports/veeam_gate.h"
#include "sys/unique_fd.h"

namespace ubc {

// Not thread-safe; threads each use their own object (the locks are per open file, so
// objects exclude each other like separate processes do).
class LeaseDirectory final : public VeeamGate, public LeaseStore {
 public:
  // `disk` is written into copier.active for veeam-lock's messages (may be empty). Nothing
  // is opened until the first call. The directory is created (mode 0755) when missing.
  explicit LeaseDirectory(const Config& config, std::string disk = {});
  ~LeaseDirectory() override;
  LeaseDirectory(const LeaseDirectory&) = delete;
  LeaseDirectory& operator=(const LeaseDirectory&) = delete;

  // --- VeeamGate: the copier's side. All throw std::system_error naming the failing call.
  // Under the coordination lock: removes expired leases (returned in `expired`); with live
  // leases returns them; else takes a shared flock on copier.active, writes our pid and
  // disk into it and returns entered. Called while entered, it leaves first.
  GateResult try_enter() override;
  // Drops the copier.active lock (closing it). The file stays.
  void leave() override;
  // One non-blocking read() of the inotify fd: true once a lease file has been created or
  // renamed into the directory since try_enter entered (and stays true until the next
  // try_enter). An event queue overflow or a lost watch also answers true: when unsure,
  // yield.
  bool lease_appeared() override;
  // poll() on the inotify fd: returns when a lease (or any file) is created, renamed or
  // deleted in the directory, on a signal, or after `timeout`.
  void wait_for_change(std::chrono::milliseconds timeout) override;

  // --- LeaseStore: veeam-lock's side (see core/veeam_lock.h).
  LeaseCreated create_lease(const std::string& job) override;
  CopierState copier_state() override;
  bool remove_lease(const Lease& lease) override;
  LeaseRemoval remove_oldest_lease(const std::string& job) override;
  LeaseListing list_leases() override;

  // The live leases, for those who only look (`status`, `serve`): no lock is taken and
  // nothing is created or removed, so it works without write access. Expired leases are
  // left out but stay until a copier or veeam-lock cleans up.
  std::vector<Lease> read_live_leases();

  const std::string& directory() const { return directory_; }
  const std::string& coordination_path() const { return coordination_path_; }

 private:
  struct Scan {
    std::vector<Lease> live;
    std::vector<Lease> expired;  // already removed
  };

  struct Names {
    std::vector<std::string> leases;
    std::vector<std::string> temps;  // temporary files of lease writers
  };

  UniqueFd open_directory();
  Names read_names(int dir_fd);
  std::vector<Lease> read_leases(int dir_fd, const std::vector<std::string>& names);
  static void sort_by_creation(std::vector<Lease>& leases);
  // Reads every lease, removes the expired ones. Caller holds the coordination lock.
  Scan scan_and_clean(int dir_fd);
  // nullopt when the file vanished; a file that cannot be read or parsed is a lease of
  // an unknown job that expires ttl hours after its mtime (keeps copies out meanwhile).
  std::optional<Lease> read_lease(int dir_fd, const std::string& name);
  Lease write_lease(int dir_fd, const std::string& job);
  CopierState probe_copier(int dir_fd);
  void ensure_watch();
  // Reads pending inotify events; true when one of them was a lease arriving (or the
  // watch cannot be trusted any more).
  bool drain_events();

  std::string directory_;
  std::string coordination_path_;
  int ttl_hours_;
  std::string disk_;
  UniqueFd active_fd_;   // copier.active, locked while entered
  UniqueFd inotify_fd_;  // watch on directory_, created on first need
  bool appeared_ = false;
};

}  // namespace ubc
