// SPDX-License-Identifier: MIT
// The mailer as the copier's main() wires it (libcurl transport, each attempt in a child
// process, outbox directory, the policy of core/outbox_mailer.h), for tests against a real
// SMTP server on 127.0.0.1.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/outbox_mailer.h"
#include "sys/curl_transport.h"
#include "sys/forked_transport.h"
#include "sys/outbox_directory.h"
#include "sys/system_clock.h"

namespace ubc::test {

// The real clock, except that the back-off waits between attempts are recorded instead of
// slept: the tests check them without waiting seconds.
class BackOffRecordingClock final : public Clock {
 public:
  std::int64_t now_unix() override { return real_.now_unix(); }
  std::chrono::milliseconds monotonic() override { return real_.monotonic(); }
  void sleep(std::chrono::milliseconds d) override { sleeps_.push_back(d); }
  std::vector<std::chrono::milliseconds> sleeps_;

 private:
  SystemClock real_;
};

// A config that mails through 127.0.0.1:port and keeps its outbox in state_dir/outbox.
inline Config mail_config(const std::string& state_dir, int port, MailSecurity security) {
  Config c;
  c.mail_server = "127.0.0.1";
  c.mail_port = port;
  c.mail_security = security;
  c.from_mail = "copier@example.com";
  c.sysop_mails = {"ops@example.com"};
  c.cc_mails = {"boss@example.com"};
  c.state_directory = state_dir;
  return c;
}

class WiredMailer {
 public:
  WiredMailer(const Config& config, Clock& clock, std::string ca_file = "", StopSignal* stop = nullptr,
              MailPolicy policy = {})
      : curl_(config, "backup01.test", {std::move(ca_file), std::chrono::seconds(5)}),
        transport_(curl_),
        outbox_(config.state_directory + "/outbox"),
        mailer_(config, transport_, outbox_, clock, stop, std::move(policy)) {}

  MailResult send(const Email& mail) { return mailer_.send(mail); }
  KeptMailDelivery deliver_kept() { return mailer_.deliver_kept(); }

 private:
  CurlTransport curl_;
  ForkedMailTransport transport_;
  OutboxDirectory outbox_;
  OutboxMailer mailer_;
};

// The *.mail files directly in dir (not in failed/), sorted.
inline std::vector<std::string> mail_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".mail") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ubc::test
