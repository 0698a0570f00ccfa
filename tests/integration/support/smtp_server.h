// SPDX-License-Identifier: MIT
// A real SMTP server on 127.0.0.1 for integration tests: aiosmtpd run by
// support/smtp_server.py, optionally with STARTTLS or implicit TLS (certificates made by
// openssl at test time) and AUTH. Stopped by pid and its directory removed on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"

namespace ubc::test {

// A throwaway CA and a server certificate signed by it, in PEM files.
struct TestCertificates {
  std::string ca_file;
  std::string cert_file{};
  std::string key_file{};
};

// Made with openssl in dir. alt_names is the server certificate's subjectAltName list.
TestCertificates make_test_certificates(
    const std::string& dir, const std::vector<std::string>& alt_names = {"DNS:localhost", "IP:127.0.0.1"});

// A TCP port on 127.0.0.1 that nothing listens on at the moment of the call.
int free_port();

struct SmtpServerOptions {
  int port = 0;  // 0: any free port
  std::string cert_file{};  // with key_file: STARTTLS required, or implicit TLS
  std::string key_file{};
  bool implicit_tls = false;
  std::string username{};  // set: AUTH (LOGIN, PLAIN) required with this user and password
  std::string password{};
  bool auth_without_tls = false;  // allow AUTH on a plain connection
  int fail_code = 451;            // reply to DATA while failing
  int fail_count = 0;             // DATA commands to fail first; -1: every one
  std::vector<std::string> refuse{};  // recipients answered with 550
  bool silent = false;  // accept connections and never answer: a hung server
};

class SmtpServer {
 public:
  // Throws std::runtime_error (saying what to install) when python3-aiosmtpd is missing
  // or the server does not come up.
  explicit SmtpServer(SmtpServerOptions options = {});
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  int port() const { return port_; }
  // Waits until at least count messages were stored; false on timeout.
  bool wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const;
  // Waits until at least count connections were accepted (silent servers only).
  bool wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const;
  // Paths of the stored messages (raw bytes as received), in the order they arrived.
  std::vector<std::string> message_files() const;
  std::vector<std::string> messages() const;
  // The envelope of each message, as flat JSON: mail_from, rcpt_tos (comma-separated),
  // ehlo, tls, login.
  std::vector<std::string> envelopes() const;
  // What the server wrote to stderr (for failure messages).
  std::string log() const;
  void stop();

 private:
  std::string directory_;  // removed by the destructor
  std::string maildir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// support/parse_mail.py's summary of one received message.
Json parse_mail(const std::string& eml_path);
// The string field, or "" if missing.
std::string field(const Json& summary, const std::string& key);

}  // namespace ubc::test
