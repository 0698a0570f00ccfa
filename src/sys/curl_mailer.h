// SPDX-License-Identifier: MIT
// The Mailer port on libcurl's SMTP client: STARTTLS or implicit TLS with certificate and
// host name checks, AUTH, timeouts, retries of temporary failures, and the outbox.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "core/config.h"
#include "ports/mailer.h"

namespace ubc {

struct CurlEasyDeleter {
  void operator()(CURL* curl) const noexcept { curl_easy_cleanup(curl); }
};
using CurlPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// CURLcode as a std::error_code, so failures read like any other system_error.
const std::error_category& curl_category();

struct CurlMailerOptions {
  // PEM file of the CA(s) that sign the server's certificate; empty: the system's CAs.
  std::string ca_file;
  // One retry of a temporary failure per entry, after that delay.
  std::vector<std::chrono::milliseconds> retry_delays{std::chrono::seconds(2), std::chrono::seconds(5)};
  // How to wait between attempts; tests record instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::chrono::seconds connect_timeout{20};
  std::chrono::seconds transfer_timeout{120};
};

class CurlMailer final : public Mailer {
 public:
  // hostname: this server, sent as the EHLO name and used in Message-IDs.
  CurlMailer(const Config& config, std::string hostname);
  CurlMailer(const Config& config, std::string hostname, CurlMailerOptions options);
  CurlMailer(const CurlMailer&) = delete;
  CurlMailer& operator=(const CurlMailer&) = delete;

  // Sends the mails kept in state-directory/outbox first (oldest first), then this one;
  // what cannot be sent is kept there. Never throws.
  MailResult send(const Email& mail) override;

  struct Credentials {
    std::string username;
    std::string password;
  };
  struct Attempt {
    bool ok = false;
    bool temporary = false;  // worth another try: no answer, or a 4xx reply
    std::string error;
    std::vector<std::string> refused;  // recipients the server did not accept
  };

 private:
  MailResult send_or_keep(const Email& mail);
  Attempt transmit(const std::string& from, const std::vector<std::string>& recipients,
                   const std::string& message, const Credentials& credentials);
  Attempt transmit_once(const std::string& from, const std::vector<std::string>& recipients,
                        const std::string& message, const Credentials& credentials);
  std::string url() const;
  std::string server_name() const;

  Config config_;
  std::string hostname_;
  CurlMailerOptions options_;
};

}  // namespace ubc
