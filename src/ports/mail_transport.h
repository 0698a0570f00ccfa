// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ubc {

// A mail ready to go: the SMTP envelope and the rendered message (core/mime.h).
struct RenderedMail {
  std::string from;                     // envelope sender
  std::vector<std::string> recipients;  // envelope recipients: To and Cc
  std::string message;                  // RFC 5322 bytes, CRLF line ends
};

struct TransmitResult {
  enum class Kind {
    delivered,
    temporary,  // worth another try: no answer, a time limit, or a 4xx reply
    refused,    // the server refused this mail for good (5xx to MAIL, RCPT or DATA)
    failed,     // would fail the same for every mail: login, certificate, configuration
    stopped,    // given up because the caller asked to
  };
  Kind kind = Kind::temporary;
  std::string error;         // for admins: server, security, what went wrong; no secrets
  std::string server_reply;  // the server's last reply line, if it gave one
  std::vector<std::string> refused_recipients;  // "addr (reply)", also when delivered
};

// Hands mails to the mail server. Never throws.
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // A Message-ID for a new mail of that date, unique and naming this host.
  virtual std::string new_message_id(std::int64_t date) = 0;
  // One attempt, ended after time_limit (connect, every reply) or soon after give_up()
  // returns true; give_up is asked at least once a second.
  virtual TransmitResult transmit(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                                  const std::function<bool()>& give_up) = 0;
};

}  // namespace ubc
