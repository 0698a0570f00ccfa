// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

namespace ubc {

// A mail as composed by core (core/mail_compose.h); the mailer renders and sends it.
struct Email {
  std::string from;
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::string subject;  // UTF-8, untrusted parts included: encoded when rendered
  std::string body;     // UTF-8 text, lines separated by '\n'
  std::string attachment_name;  // empty: no attachment
  std::string attachment;       // text/plain, UTF-8
};

struct MailResult {
  bool sent = false;
  bool kept_in_outbox = false;  // not sent now; will be sent before the next run's mails
  std::string error;            // why it was not sent
  int outbox_sent = 0;          // older mails delivered from the outbox first
  // Set when the mail was neither sent nor kept: the whole mail as readable text, for the
  // caller to log, so that it is not lost.
  std::string unkept;
  // What became of kept mails during this call (refused for good and moved aside), for
  // the admins.
  std::vector<std::string> warnings;
};

struct KeptMailDelivery {
  int sent = 0;
  // Every warning about kept mails since the mailer was made or last asked, those of
  // earlier send() calls included: for the run's report.
  std::vector<std::string> warnings;
};

// Never throws: a mail that cannot be sent must not change the job's result.
class Mailer {
 public:
  virtual ~Mailer() = default;
  // Sends the mails kept from earlier first (oldest first), then this one; what cannot
  // be sent is kept for later.
  virtual MailResult send(const Email& mail) = 0;
  // Sends the kept mails now, so that what became of them can go into the report that is
  // about to be composed. The send() that follows goes straight to its own mail.
  virtual KeptMailDelivery deliver_kept() = 0;
};

}  // namespace ubc
