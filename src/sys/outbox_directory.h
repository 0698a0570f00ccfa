// SPDX-License-Identifier: MIT
// The OutboxStore port on a directory (state-directory/outbox): one file per kept mail,
// holding the SMTP envelope, the refusal count and the rendered message, so a kept mail
// goes out exactly as it was composed, Date included. Mails refused for good go to failed/.
#pragma once

#include <optional>
#include <string>

#include "ports/outbox_store.h"
#include "sys/unique_fd.h"

namespace ubc {

// The file format, exposed for the tests:
// "ubc-outbox 1\nfrom A\nrcpt B\n...[refusals N\n]\n" + message.
std::string serialize_kept_mail(const KeptMail& mail);
std::optional<KeptMail> parse_kept_mail(const std::string& data);

class OutboxDirectory final : public OutboxStore {
 public:
  // The directory is created (mode 0700) on first use; its parent must exist.
  explicit OutboxDirectory(std::string directory);
  OutboxDirectory(const OutboxDirectory&) = delete;
  OutboxDirectory& operator=(const OutboxDirectory&) = delete;

  std::string location() const override { return directory_; }
  std::string failed_location() const override { return directory_ + "/failed"; }
  // Durably: temporary file, fsync, rename, fsync of the directory; mode 0600.
  std::string add(const KeptMail& mail) override;
  std::vector<std::string> list() override;  // empty when the directory does not exist
  std::optional<KeptMail> load(const std::string& name) override;
  void replace(const std::string& name, const KeptMail& mail) override;
  void remove(const std::string& name) override;
  // Renames the entry to name + ".bad".
  void set_aside(const std::string& name) override;
  void move_to_failed(const std::string& name) override;
  // A non-blocking exclusive flock on outbox/.lock, so that two processes (a copy and
  // veeam-lock) never send the same kept mail twice.
  std::unique_ptr<Lock> try_lock() override;

 private:
  UniqueFd open_directory(bool create) const;
  // Writes name through a hidden temporary file: readers see the old entry or the new one.
  void write_entry(int dir, const std::string& name, const KeptMail& mail);

  std::string directory_;
};

}  // namespace ubc
