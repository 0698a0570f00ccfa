// SPDX-License-Identifier: MIT
// Fakes for the ports that only receive: status, history, mail, inhibitor.
#pragma once

#include <functional>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <stdexcept>
#include <vector>

#include "ports/history.h"
#include "ports/inhibitor.h"
#include "ports/mailer.h"
#include "ports/status_sink.h"

namespace ubc::test {

class FakeStatusSink final : public StatusSink {
 public:
  void publish(const Status& status) override {
    if (fail_) throw std::runtime_error("rename failed");
    published_.push_back(status);
  }
  void clear(const std::string& uuid) override { cleared_.insert(uuid); }
  bool saw_phase(Phase phase) const {
    for (const auto& s : published_)
      if (s.phase == phase) return true;
    return false;
  }
  std::vector<Status> published_;
  std::set<std::string> cleared_;
  bool fail_ = false;
};

// broken_: every call throws, as SqliteHistory does on a corrupt or locked database.
class FakeHistory final : public History {
 public:
  void record(const JobReport& report) override {
    fail_if_broken();
    recorded_.push_back(report);
  }
  std::vector<HistoryRow> last_run_per_disk() override {
    fail_if_broken();
    return rows_;
  }
  std::vector<HistoryRow> last_success_per_disk() override {
    fail_if_broken();
    return success_rows_;
  }
  std::vector<HistoryRow> last_verification_per_disk() override {
    fail_if_broken();
    return verification_rows_;
  }
  std::vector<DiskRestorePoints> restore_points_per_disk() override {
    fail_if_broken();
    return restore_points_;
  }
  std::vector<HistoryRow> recent(int) override {
    fail_if_broken();
    return rows_;
  }
  std::optional<std::string> run_log(std::int64_t id) override {
    fail_if_broken();
    const auto it = logs_.find(id);
    if (it == logs_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<JobReport> recorded_;
  std::vector<HistoryRow> rows_;          // last_run_per_disk() and recent()
  std::vector<HistoryRow> success_rows_;  // last_success_per_disk()
  std::vector<HistoryRow> verification_rows_;  // last_verification_per_disk()
  std::map<std::int64_t, std::string> logs_;
  std::vector<DiskRestorePoints> restore_points_;  // restore_points_per_disk()
  bool broken_ = false;

 private:
  void fail_if_broken() const {
    if (broken_) throw std::runtime_error("PRAGMA journal_mode=WAL on 'history.db': file is not a database");
  }
};

class FakeMailer final : public Mailer {
 public:
  MailResult send(const Email& mail) override {
    sent_.push_back(mail);
    if (on_send_) on_send_(mail);
    calls_.push_back("send " + mail.subject);
    MailResult r;
    r.sent = !fail_;
    r.kept_in_outbox = fail_ && !cannot_keep_;
    if (fail_) r.error = "connection refused";
    if (fail_ && cannot_keep_) r.unkept = "Subject: " + mail.subject + "\n\n" + mail.body;
    return r;
  }
  KeptMailDelivery deliver_kept() override {
    calls_.push_back("deliver_kept");
    return kept_;
  }
  std::vector<Email> sent_;
  std::vector<std::string> calls_;  // "send <subject>", "deliver_kept", in order
  bool fail_ = false;
  std::function<void(const Email&)> on_send_;  // runs while the mail is "being sent"
  bool cannot_keep_ = false;  // with fail_: the outbox cannot be written either
  KeptMailDelivery kept_;     // what deliver_kept() reports
};

class FakeInhibitor final : public Inhibitor {
 public:
  std::optional<std::string> acquire(const std::string& why) override {
    whys_.push_back(why);
    if (!error_.empty()) return error_;
    held_ = true;
    return std::nullopt;
  }
  void release() override {
    ++releases_;
    if (fail_release_) throw std::runtime_error("sd_bus_call ReleaseInhibitor: Connection reset by peer");
    held_ = false;
  }
  bool fail_release_ = false;
  std::string error_;
  bool held_ = false;
  int releases_ = 0;
  std::vector<std::string> whys_;
};

}  // namespace ubc::test
