// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ports/mail_transport.h"

namespace ubc {

// A mail that could not be sent, kept to be sent later exactly as it was rendered.
struct KeptMail {
  RenderedMail mail;
  int refusals = 0;  // runs in which the server refused it for good
};

// Where unsent mails wait, oldest first. Entries are named by the store. Every call
// throws std::system_error when the store cannot be used.
class OutboxStore {
 public:
  // Held while kept mails are being sent, so that two processes never send one twice.
  class Lock {
   public:
    virtual ~Lock() = default;
  };

  virtual ~OutboxStore() = default;
  virtual std::string location() const = 0;  // for messages, e.g. the directory
  virtual std::string failed_location() const = 0;  // where move_to_failed puts mails
  // Stores the mail durably and returns its name; names sort by the time they were added.
  virtual std::string add(const KeptMail& mail) = 0;
  virtual std::vector<std::string> list() = 0;  // oldest first
  // nullopt when the entry is not a kept mail (truncated, foreign).
  virtual std::optional<KeptMail> load(const std::string& name) = 0;
  virtual void replace(const std::string& name, const KeptMail& mail) = 0;
  virtual void remove(const std::string& name) = 0;
  // An entry that is not a kept mail is put aside for a human and no longer listed.
  virtual void set_aside(const std::string& name) = 0;
  // A mail refused for good is moved to failed_location(), out of the list.
  virtual void move_to_failed(const std::string& name) = 0;
  // nullptr when someone else holds the lock.
  virtual std::unique_ptr<Lock> try_lock() = 0;
};

}  // namespace ubc
