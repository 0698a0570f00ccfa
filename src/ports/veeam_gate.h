// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ubc {

// One `veeam-lock` call (DESIGN.md §7).
struct Lease {
  std::string job;
  std::string host;
  int pid = 0;
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t expires_at = 0;
  std::string file;  // the lease file's name in the lease directory
};

struct GateResult {
  bool entered = false;           // no live lease: this copier now reads the repository
  std::vector<Lease> live;        // the leases that keep it out (when not entered)
  std::vector<Lease> expired;     // expired leases found and removed (warn about them)
};

// The copier's side of the Veeam protocol (docs/veeam-protocol.md); the real one is
// sys/directory_veeam_gate. Check-and-enter happens under the coordination flock, so a copy
// and a Veeam job can never both believe they have the repository.
class VeeamGate {
 public:
  virtual ~VeeamGate() = default;
  virtual GateResult try_enter() = 0;
  // This copier no longer reads the repository (paused or finished).
  virtual void leave() = 0;
  // While entered: true when a lease has appeared since try_enter (cheap, non-blocking).
  virtual bool lease_appeared() = 0;
  // Sleeps until the lease directory changes or timeout passes.
  virtual void wait_for_change(std::chrono::milliseconds timeout) = 0;
};

}  // namespace ubc
