// SPDX-License-Identifier: MIT
// The copy job's enrollment check (DESIGN.md §10), between mounting and the first write.
#include <spdlog/spdlog.h>

#include "core/enrollment.h"
#include "core/job.h"

namespace ubc {

std::optional<Job::State> Job::prove_enrollment() {
  const EnrollmentCheck check = check_enrollment(ports_.fs, ports_.enrollment, disk_.uuid, config_.backup_destination);
  const EnrollmentDecision decision = decide_enrollment(check, config_.require_enrollment, disk_);
  std::optional<State> refused;
  if (decision.refuse)
    refused = stop(Outcome::failed, decision.message, decision.advice);
  else if (decision.warn)
    warn(decision.message);
  else
    log_->info("{}", decision.message);
  if (decision.alert) {
    // At once, not with the end mail: the admins should know while the disk is still here.
    const MailResult sent = ports_.mailer.send(compose_enrollment_alert(config_, context_.host, disk_, decision));
    if (sent.sent)
      log_->info("Sent the security alert about this disk to the admins");
    else
      log_->warn("The security alert about this disk was not sent ({}){}", sent.error,
                 sent.kept_in_outbox ? "; it is kept and sent with the next mails" : "");
  }
  return refused;
}

}  // namespace ubc
