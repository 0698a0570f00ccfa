// SPDX-License-Identifier: MIT
// The mail transport and the pinger, each attempt run in a short-lived child process
// (sys/child_call.h): libcurl, loaded only when needed (curl_library.cpp), is then loaded
// only in the child, and its libraries and buffers never count in the copier's peak
// memory (DESIGN.md §11: the copier's own peak RSS ≤ 16 MiB).
#pragma once

#include <chrono>

#include "ports/mail_transport.h"
#include "ports/pinger.h"

namespace ubc {

class ForkedMailTransport final : public MailTransport {
 public:
  // grace: how long past an attempt's time limit the child may take (start-up, QUIT,
  // clean-up) before it is killed; the inner transport keeps the time limit itself.
  explicit ForkedMailTransport(MailTransport& inner, std::chrono::milliseconds grace = std::chrono::seconds(30))
      : inner_(inner), grace_(grace) {}
  ForkedMailTransport(const ForkedMailTransport&) = delete;
  ForkedMailTransport& operator=(const ForkedMailTransport&) = delete;

  std::string new_message_id(std::int64_t date) override { return inner_.new_message_id(date); }
  // A child that dies, hangs past the grace or answers garbage: temporary (the outbox
  // keeps the mail for a later try). give_up: the child is killed, stopped.
  TransmitResult transmit(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                          const std::function<bool()>& give_up) override;

 private:
  MailTransport& inner_;
  std::chrono::milliseconds grace_;
};

class ForkedPinger final : public Pinger {
 public:
  // time_limit: the whole ping with the inner pinger's own tries (CurlPinger: 3 of 10 s).
  explicit ForkedPinger(Pinger& inner, std::chrono::milliseconds time_limit = std::chrono::seconds(60))
      : inner_(inner), time_limit_(time_limit) {}
  ForkedPinger(const ForkedPinger&) = delete;
  ForkedPinger& operator=(const ForkedPinger&) = delete;

  std::optional<std::string> ping(const std::string& url) override;

 private:
  Pinger& inner_;
  std::chrono::milliseconds time_limit_;
};

}  // namespace ubc
