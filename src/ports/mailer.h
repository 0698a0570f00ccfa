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
};

// Never throws: a mail that cannot be sent must not change the job's result.
class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual MailResult send(const Email& mail) = 0;
};

}  // namespace ubc
