// SPDX-License-Identifier: MIT
// Mails that could not be sent, kept on disk (state-directory/outbox) to be sent before
// the next run's mails. One file per mail holding the SMTP envelope and the rendered
// message, so a kept mail goes out exactly as it was composed, Date included.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sys/unique_fd.h"

namespace ubc {

struct QueuedMail {
  std::string from;                     // envelope sender
  std::vector<std::string> recipients;  // envelope recipients: To and Cc
  std::string message;                  // RFC 5322 bytes, CRLF line ends
};

// The file format, exposed for the tests: "ubc-outbox 1\nfrom A\nrcpt B\n...\n\n" + message.
std::string serialize_queued_mail(const QueuedMail& mail);
std::optional<QueuedMail> parse_queued_mail(const std::string& data);

class Outbox {
 public:
  // The directory is created (mode 0700) on first use; its parent must exist.
  explicit Outbox(std::string directory);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  const std::string& directory() const { return directory_; }

  // Stores the mail durably (temporary file, fsync, rename, fsync of the directory) with
  // mode 0600 and returns its name. Names sort by the time they were added. Throws
  // std::system_error.
  std::string add(const QueuedMail& mail);
  // Names of the kept mails, oldest first. Empty when the directory does not exist.
  std::vector<std::string> list() const;
  // nullopt when the file is not an outbox entry (truncated, foreign). Throws
  // std::system_error when it cannot be read.
  std::optional<QueuedMail> load(const std::string& name) const;
  void remove(const std::string& name);
  // Renames an unreadable entry to name + ".bad": kept for a human, skipped by list().
  void set_aside(const std::string& name);
  // A non-blocking exclusive flock on the outbox, so that two processes (a copy and
  // veeam-lock) never send the same kept mail twice. Invalid when someone else holds it.
  UniqueFd try_lock();

 private:
  UniqueFd open_directory(bool create) const;

  std::string directory_;
};

}  // namespace ubc
