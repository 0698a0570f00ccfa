// SPDX-License-Identifier: MIT
// A logind "block" inhibitor lock on shutdown and sleep while copying. logind hands out a
// file descriptor; the lock lasts exactly as long as some process keeps that fd open.
#pragma once

#include <optional>
#include <string>

#include "ports/inhibitor.h"
#include "sys/unique_fd.h"

namespace ubc {

class LogindInhibitor final : public Inhibitor {
 public:
  LogindInhibitor() = default;
  LogindInhibitor(const LogindInhibitor&) = delete;
  LogindInhibitor& operator=(const LogindInhibitor&) = delete;

  // Never throws: no system bus, no logind or a refusal come back as the error text. A
  // second acquire while held keeps the first lock.
  std::optional<std::string> acquire(const std::string& why) override;
  void release() override { fd_.reset(); }
  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

}  // namespace ubc
