// SPDX-License-Identifier: MIT
// The Mailer port as policy over two smaller ports: a transport that hands one mail to the
// server, and an outbox that keeps what could not be sent. Kept mails go first, oldest
// first; temporary failures are retried after a back-off; every call has a total time
// limit and gives up as soon as a stop is requested; a mail the server refuses for good is
// tried in a bounded number of runs, then moved to the outbox's failed place with a warning.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "ports/clock.h"
#include "ports/mail_transport.h"
#include "ports/mailer.h"
#include "ports/outbox_store.h"

namespace ubc {

struct MailPolicy {
  // One retry of a temporary failure per entry, after that delay.
  std::vector<std::chrono::milliseconds> retry_delays{std::chrono::seconds(2), std::chrono::seconds(5)};
  std::chrono::milliseconds attempt_limit{std::chrono::seconds(30)};  // one attempt at one mail
  std::chrono::milliseconds call_limit{std::chrono::seconds(60)};     // one send(), retries included
  // A call made after a stop was requested (the end mail of a stopped job): one attempt per
  // mail and this much in all, so the job still ends well within systemd's stop timeout.
  std::chrono::milliseconds stopping_limit{std::chrono::seconds(10)};
  int max_refusals = 3;  // runs in which a mail may be refused before it is moved aside
};

class OutboxMailer final : public Mailer {
 public:
  // stop may be null (veeam-lock has no stop signal). All references must outlive this.
  OutboxMailer(const Config& config, MailTransport& transport, OutboxStore& outbox, Clock& clock,
               StopSignal* stop, MailPolicy policy = {});
  OutboxMailer(const OutboxMailer&) = delete;
  OutboxMailer& operator=(const OutboxMailer&) = delete;

  MailResult send(const Email& mail) override;
  KeptMailDelivery deliver_kept() override;

 private:
  // One send() or deliver_kept().
  struct Call {
    std::chrono::milliseconds deadline;
    bool stopping = false;  // a stop was requested before the call began
    std::vector<std::string> warnings;
  };
  struct Round {
    int sent = 0;
    std::optional<TransmitResult> blocked;  // why the kept mails could not all be tried
  };

  Call start_call();
  MailResult send_or_keep(const Email& mail, Call& call);
  Round deliver_round(Call& call);
  TransmitResult transmit(const RenderedMail& mail, Call& call);
  TransmitResult stopped() const;
  void keep(MailResult& result, const Email& mail, const RenderedMail& rendered, const std::string& why,
            int refusals);
  std::vector<std::string> finish(Call& call);

  Config config_;
  MailTransport& transport_;
  OutboxStore& outbox_;
  Clock& clock_;
  StopSignal* stop_;
  MailPolicy policy_;

  std::set<std::string> refused_this_run_;  // not tried again by this mailer
  std::vector<std::string> pending_warnings_;  // for the next deliver_kept()
  std::optional<Round> round_done_;  // by deliver_kept(), for the send() that follows
};

// The whole mail as an admin reads it: the headers that matter, the body and the
// attachment in clear. What the job logs when a mail can be neither sent nor kept.
std::string mail_as_text(const Email& mail);

}  // namespace ubc
