// SPDX-License-Identifier: MIT
// Fakes for the mail transport and the outbox store: scripted answers, recorded attempts,
// entries in memory.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ports/mail_transport.h"
#include "ports/outbox_store.h"

namespace ubc::test {

class FakeMailTransport final : public MailTransport {
 public:
  struct Attempt {
    RenderedMail mail;
    std::chrono::milliseconds time_limit;
  };
  using Hook = std::function<TransmitResult(const RenderedMail&, std::chrono::milliseconds,
                                            const std::function<bool()>&)>;

  std::string new_message_id(std::int64_t) override { return "<" + std::to_string(++ids_) + "@test>"; }
  TransmitResult transmit(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                          const std::function<bool()>& give_up) override {
    attempts_.push_back({mail, time_limit});
    if (hook_) return hook_(mail, time_limit, give_up);
    if (script_.empty()) return {TransmitResult::Kind::delivered, {}, "250 OK", {}};
    TransmitResult r = script_.front();
    if (script_.size() > 1 || !repeat_last_) script_.pop_front();
    return r;
  }

  // The subject line of each attempted message, in order.
  std::vector<std::string> subjects() const {
    std::vector<std::string> out;
    for (const auto& a : attempts_) {
      const auto at = a.mail.message.find("Subject: ");
      out.push_back(at == std::string::npos ? "" : a.mail.message.substr(at + 9, a.mail.message.find("\r\n", at) - at - 9));
    }
    return out;
  }

  std::deque<TransmitResult> script_;  // answers in order; then "delivered"
  bool repeat_last_ = false;           // the last scripted answer stays
  Hook hook_;                          // answers instead of the script
  std::vector<Attempt> attempts_;
  int ids_ = 0;
};

inline TransmitResult temporary_failure() {
  return {TransmitResult::Kind::temporary, "SMTP server 'mail:25': Couldn't connect to server", {}, {}};
}
inline TransmitResult refusal() {
  return {TransmitResult::Kind::refused, "SMTP server 'mail:25': the server said '554 5.7.0 message refused'",
          "554 5.7.0 message refused", {}};
}

class FakeOutboxStore final : public OutboxStore {
 public:
  class FakeLock final : public Lock {
   public:
    explicit FakeLock(bool& held) : held_(held) { held_ = true; }
    ~FakeLock() override { held_ = false; }

   private:
    bool& held_;
  };

  std::string location() const override { return "/var/lib/ubc/outbox"; }
  std::string failed_location() const override { return "/var/lib/ubc/outbox/failed"; }
  std::string add(const KeptMail& mail) override {
    check_writable("add");
    char name[32];
    std::snprintf(name, sizeof name, "%06d.mail", ++added_);
    entries_[name] = mail;
    return name;
  }
  std::vector<std::string> list() override {
    std::vector<std::string> names;
    for (const auto& [name, mail] : entries_) names.push_back(name);
    for (const auto& name : unreadable_) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
  }
  std::optional<KeptMail> load(const std::string& name) override {
    const auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void replace(const std::string& name, const KeptMail& mail) override {
    check_writable("replace");
    entries_.at(name) = mail;
  }
  void remove(const std::string& name) override { entries_.erase(name); }
  void set_aside(const std::string& name) override {
    unreadable_.erase(std::remove(unreadable_.begin(), unreadable_.end(), name), unreadable_.end());
    aside_.push_back(name);
  }
  void move_to_failed(const std::string& name) override {
    failed_[name] = entries_.at(name);
    entries_.erase(name);
  }
  std::unique_ptr<Lock> try_lock() override {
    if (held_ || held_elsewhere_) return nullptr;
    return std::make_unique<FakeLock>(held_);
  }

  std::map<std::string, KeptMail> entries_;  // by name: oldest first
  std::map<std::string, KeptMail> failed_;
  std::vector<std::string> unreadable_;      // listed, but not kept mails
  std::vector<std::string> aside_;
  bool read_only_ = false;       // add and replace fail as on a read-only file system
  bool held_elsewhere_ = false;  // another process holds the lock
  bool held_ = false;
  int added_ = 0;

 private:
  void check_writable(const char* what) const {
    if (read_only_) throw std::system_error(EROFS, std::generic_category(), std::string(what) + " '" + location() + "'");
  }
};

}  // namespace ubc::test
