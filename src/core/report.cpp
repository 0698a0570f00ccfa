// SPDX-License-Identifier: MIT
#include "core/report.h"

#include "core/exit_codes.h"
#include "core/text.h"

namespace ubc {

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::success: return "success";
    case Outcome::warning: return "warning";
    case Outcome::failed: return "failed";
    case Outcome::aborted: return "aborted";
    case Outcome::gave_up: return "gave-up";
    case Outcome::not_whitelisted: return "not-whitelisted";
    case Outcome::already_running: return "already-running";
  }
  return "unknown";
}

std::string VerificationReport::problem_summary(std::uint64_t total) const {
  std::string out = join(problems, ", ");
  if (total > problems.size()) out += " (and " + std::to_string(total - problems.size()) + " more)";
  return out;
}

int exit_code(const JobReport& report) {
  switch (report.outcome) {
    case Outcome::success:
    case Outcome::warning:
    case Outcome::not_whitelisted:
    case Outcome::already_running:
      return kExitOk;
    case Outcome::gave_up:
      return kExitTempFail;
    case Outcome::failed:
    case Outcome::aborted:
      return kExitFailed;
  }
  return kExitFailed;
}

}  // namespace ubc
