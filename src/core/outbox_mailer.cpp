// SPDX-License-Identifier: MIT
#include "core/outbox_mailer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "core/mail_compose.h"
#include "core/mime.h"

namespace ubc {

namespace {

using std::chrono::milliseconds;
using Kind = TransmitResult::Kind;

std::string in_seconds(milliseconds d) { return std::to_string((d.count() + 999) / 1000) + " s"; }

std::string moved_warning(const std::vector<std::string>& replies, const std::string& where) {
  std::vector<std::string> distinct;
  for (const auto& r : replies)
    if (std::find(distinct.begin(), distinct.end(), r) == distinct.end()) distinct.push_back(r);
  return fmt::format("{} kept {} refused permanently by the server and moved to '{}': {}", replies.size(),
                     replies.size() == 1 ? "mail was" : "mails were", where, fmt::join(distinct, "; "));
}

}  // namespace

OutboxMailer::OutboxMailer(const Config& config, MailTransport& transport, OutboxStore& outbox, Clock& clock,
                           StopSignal* stop, MailPolicy policy)
    : config_(config), transport_(transport), outbox_(outbox), clock_(clock), stop_(stop),
      policy_(std::move(policy)) {}

OutboxMailer::Call OutboxMailer::start_call() {
  Call call;
  call.stopping = stop_ != nullptr && stop_->stop_requested();
  call.deadline = clock_.monotonic() + (call.stopping ? policy_.stopping_limit : policy_.call_limit);
  return call;
}

std::vector<std::string> OutboxMailer::finish(Call& call) {
  pending_warnings_.insert(pending_warnings_.end(), call.warnings.begin(), call.warnings.end());
  return std::move(call.warnings);
}

TransmitResult OutboxMailer::stopped() const {
  TransmitResult r;
  r.kind = Kind::stopped;
  r.error = "given up because the job is being stopped (" + (stop_ ? stop_->describe() : "") + ")";
  return r;
}

TransmitResult OutboxMailer::transmit(const RenderedMail& mail, Call& call) {
  // A stop that arrives during the call ends it at once; after a stop the job still gets its
  // end mail out if the server answers within the short stopping limit.
  const auto give_up = [&] { return !call.stopping && stop_ != nullptr && stop_->stop_requested(); };
  const milliseconds limit = call.stopping ? policy_.stopping_limit : policy_.call_limit;
  TransmitResult result;
  for (std::size_t retry = 0;; ++retry) {
    if (give_up()) return stopped();
    const milliseconds left = call.deadline - clock_.monotonic();
    if (left <= milliseconds::zero()) {
      result.kind = Kind::temporary;
      result.error = "given up after the time limit for mail of " + in_seconds(limit) +
                     (result.error.empty() ? "" : " (" + result.error + ")");
      return result;
    }
    result = transport_.transmit(mail, std::min(left, policy_.attempt_limit), give_up);
    if (result.kind == Kind::stopped || (result.kind != Kind::delivered && give_up())) return stopped();
    if (result.kind != Kind::temporary || call.stopping || retry >= policy_.retry_delays.size()) return result;
    const milliseconds delay = policy_.retry_delays[retry];
    if (clock_.monotonic() + delay >= call.deadline) return result;  // no time for another try
    clock_.sleep(delay);  // the real clock wakes early on a stop signal
  }
}

OutboxMailer::Round OutboxMailer::deliver_round(Call& call) {
  Round round;
  std::unique_ptr<OutboxStore::Lock> lock;
  try {
    lock = outbox_.try_lock();
  } catch (const std::exception&) {
    return round;  // no outbox can be made: nothing is kept there, and keep() will say why
  }
  if (!lock) return round;  // another process is sending them
  std::vector<std::string> moved;
  try {
    for (const auto& name : outbox_.list()) {
      if (refused_this_run_.count(name) != 0) continue;
      std::optional<KeptMail> kept = outbox_.load(name);
      if (!kept) {
        outbox_.set_aside(name);
        continue;
      }
      const TransmitResult r = transmit(kept->mail, call);
      if (r.kind == Kind::delivered) {
        outbox_.remove(name);
        ++round.sent;
      } else if (r.kind == Kind::refused) {
        // Counted once per run: a mail refused now may be accepted after the admin has
        // changed something, so it gets a few more runs before it is moved aside.
        refused_this_run_.insert(name);
        if (++kept->refusals >= policy_.max_refusals) {
          outbox_.move_to_failed(name);
          moved.push_back(r.server_reply.empty() ? r.error : r.server_reply);
        } else {
          outbox_.replace(name, *kept);
        }
      } else {
        // The server is away, or every mail would fail the same way: the others (and the
        // new one) wait behind this one, which keeps their order.
        round.blocked = r;
        break;
      }
    }
  } catch (const std::exception& e) {
    call.warnings.push_back("The kept mails in '" + outbox_.location() + "' could not all be sent: " + e.what());
  }
  if (!moved.empty()) call.warnings.push_back(moved_warning(moved, outbox_.failed_location()));
  return round;
}

void OutboxMailer::keep(MailResult& result, const Email& mail, const RenderedMail& rendered,
                        const std::string& why, int refusals) {
  result.error = why;
  try {
    const std::string name = outbox_.add({rendered, refusals});
    if (refusals > 0) refused_this_run_.insert(name);
    result.kept_in_outbox = true;
  } catch (const std::exception& e) {
    result.error = why + "; it could not be kept for later either: " + e.what();
    result.unkept = mail_as_text(mail);
  }
}

MailResult OutboxMailer::send_or_keep(const Email& mail, Call& call) {
  std::optional<Round> done = std::exchange(round_done_, std::nullopt);
  MailResult result;
  if (config_.mail_server.empty()) {
    result.error = "no mail server is configured ([Mail] server)";
    return result;
  }
  RenderedMail rendered;
  rendered.from = clean_address(mail.from);
  rendered.recipients = envelope_recipients(mail);
  if (rendered.recipients.empty()) {
    result.error = "the mail has no recipients ([Mail] to-mail-addresses-sysop)";
    return result;
  }
  const std::int64_t now = clock_.now_unix();
  rendered.message = render_message(mail, {now, transport_.new_message_id(now)});

  const Round round = done ? Round{0, done->blocked} : deliver_round(call);
  result.outbox_sent = round.sent;
  if (round.blocked) {
    keep(result, mail, rendered, round.blocked->error, 0);
    return result;
  }
  const TransmitResult r = transmit(rendered, call);
  if (r.kind == Kind::delivered) {
    result.sent = true;
    if (!r.refused_recipients.empty())
      result.error = fmt::format("sent, but the server refused these recipients: {}",
                                 fmt::join(r.refused_recipients, ", "));
    return result;
  }
  keep(result, mail, rendered, r.error, r.kind == Kind::refused ? 1 : 0);
  return result;
}

MailResult OutboxMailer::send(const Email& mail) {
  Call call = start_call();
  MailResult result;
  try {
    result = send_or_keep(mail, call);
  } catch (const std::exception& e) {
    result.error = e.what();
  } catch (...) {
    result.error = "unexpected error while sending mail";
  }
  if (!result.sent && !result.kept_in_outbox && result.unkept.empty()) result.unkept = mail_as_text(mail);
  result.warnings = finish(call);
  return result;
}

KeptMailDelivery OutboxMailer::deliver_kept() {
  KeptMailDelivery delivery;
  if (!config_.mail_server.empty()) {
    Call call = start_call();
    try {
      Round round = deliver_round(call);
      delivery.sent = round.sent;
      round_done_ = std::move(round);
    } catch (const std::exception& e) {
      call.warnings.push_back(std::string("The kept mails could not be sent: ") + e.what());
    }
    (void)finish(call);
  }
  delivery.warnings = std::exchange(pending_warnings_, {});
  return delivery;
}

std::string mail_as_text(const Email& mail) {
  std::string text = fmt::format("From: {}\nTo: {}\n", mail.from, fmt::join(mail.to, ", "));
  if (!mail.cc.empty()) text += fmt::format("Cc: {}\n", fmt::join(mail.cc, ", "));
  text += "Subject: " + mail.subject + "\n\n" + mail.body;
  if (!mail.attachment_name.empty()) text += "\n--- " + mail.attachment_name + " ---\n" + mail.attachment;
  return text;
}

}  // namespace ubc
