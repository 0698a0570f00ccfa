// SPDX-License-Identifier: MIT
// The MailTransport port on libcurl's SMTP client: STARTTLS or implicit TLS with
// certificate and host name checks, AUTH, a time limit per attempt and an abort check.
// Retries, the outbox and their policy are core/outbox_mailer.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <curl/curl.h>

#include "core/config.h"
#include "ports/mail_transport.h"

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

struct CurlTransportOptions {
  // PEM file of the CA(s) that sign the server's certificate; empty: [Mail] ca-file, or
  // the system's CAs.
  std::string ca_file;
  // Within each attempt's time limit: a server that does not even accept the connection
  // is given up on sooner.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
};

class CurlTransport final : public MailTransport {
 public:
  // hostname: this server, sent as the EHLO name and used in Message-IDs.
  CurlTransport(const Config& config, std::string hostname, CurlTransportOptions options = {});
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  std::string new_message_id(std::int64_t date) override;
  TransmitResult transmit(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                          const std::function<bool()>& give_up) override;

 private:
  TransmitResult perform(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                         const std::function<bool()>& give_up);
  std::string url() const;
  std::string server_name() const;

  Config config_;
  std::string hostname_;
  CurlTransportOptions options_;
};

}  // namespace ubc
