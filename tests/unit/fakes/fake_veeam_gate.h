// SPDX-License-Identifier: MIT
#pragma once

#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "fakes/fake_clock.h"
#include "ports/veeam_gate.h"

namespace ubc::test {

// The Veeam lease directory as the job sees it, held to DirectoryVeeamGate's rules by one
// contract suite (tests/integration/veeam_gate_test.cpp): try_enter is refused while
// leases_ holds a lease, try_enter while entered leaves first, lease_appeared() is sticky
// until the next try_enter. Time passes in wait_for_change() when a FakeClock is
// attached, so waits for Veeam end in tests.
class FakeVeeamGate final : public VeeamGate {
 public:
  GateResult try_enter() override {
    calls_.emplace_back("try_enter");
    ++try_enters_;
    if (fail_enter_)
      throw std::system_error(EACCES, std::generic_category(), "open '/var/lib/usb-backup-copier/veeam'");
    if (entered_) leave();
    GateResult result;
    result.expired = std::exchange(expired_, {});
    if (!leases_.empty()) {
      result.live = leases_;
      return result;
    }
    entered_ = true;
    appeared_ = false;
    ++entries_;
    result.entered = true;
    return result;
  }

  void leave() override {
    calls_.emplace_back("leave");
    ++leaves_;
    entered_ = false;
    appeared_ = false;
    if (fail_leave_) throw std::system_error(EIO, std::generic_category(), "unlink '/var/lib/usb-backup-copier/veeam/copier.active'");
  }

  bool lease_appeared() override {
    ++checks_;
    if (appear_on_check_ > 0 && checks_ == appear_on_check_) appear(lease("Scripted"));
    return appeared_;
  }

  void wait_for_change(std::chrono::milliseconds timeout) override {
    calls_.emplace_back("wait");
    ++waits_;
    waited_ += timeout;
    if (clear_after_waits_ >= 0 && waits_ >= clear_after_waits_) leases_.clear();
    if (clock_ != nullptr) clock_->advance(timeout);
  }

  // A veeam-lock call arriving: the lease exists from now on; a copier inside notices.
  void appear(Lease l) {
    leases_.push_back(std::move(l));
    if (entered_) appeared_ = true;
  }

  static Lease lease(std::string job, std::int64_t created = 1'800'000'000, int ttl_hours = 24) {
    Lease l;
    l.job = std::move(job);
    l.host = "backup-server";
    l.pid = 4242;
    l.created_at = created;
    l.expires_at = created + static_cast<std::int64_t>(ttl_hours) * 3600;
    l.file = std::to_string(created) + "-" + l.job + "-4242-00000000.lease";
    return l;
  }

  // Script
  std::vector<Lease> leases_;   // live leases: try_enter is refused while any exists
  std::vector<Lease> expired_;  // handed out (as removed) by the next try_enter
  int clear_after_waits_ = -1;  // >= 0: leases_ empties after that many wait_for_change calls
  int appear_on_check_ = 0;     // > 0: a lease appears at that lease_appeared() call
  bool fail_enter_ = false;     // try_enter throws std::system_error
  bool fail_leave_ = false;     // leave throws std::system_error (after leaving)
  FakeClock* clock_ = nullptr;  // advanced by wait_for_change's timeout

  // Record
  std::vector<std::string> calls_;  // "try_enter", "leave", "wait" in order
  int try_enters_ = 0;
  int entries_ = 0;  // try_enter calls that entered
  int leaves_ = 0;
  int checks_ = 0;  // lease_appeared calls
  int waits_ = 0;
  std::chrono::milliseconds waited_{0};
  bool entered_ = false;
  bool appeared_ = false;
};

}  // namespace ubc::test
