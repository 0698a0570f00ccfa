// SPDX-License-Identifier: MIT
#include "core/veeam_lock.h"

#include <algorithm>
#include <initializer_list>
#include <ostream>

#include "core/exit_codes.h"
#include "core/format.h"
#include "core/lease.h"
#include "core/mail_compose.h"

namespace ubc {

namespace {

// A yielding copier answers within seconds, so look often; a copy that must finish takes
// minutes, so once a second is plenty.
constexpr std::chrono::milliseconds kYieldPoll{100};
constexpr std::chrono::milliseconds kFinishPoll{1000};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// Each line goes out at once: over ssh stdout is a pipe, and a line still in our buffer
// when Veeam stops the script would be lost from its job log.
void say(std::ostream& stream, const std::string& program, const std::string& line) {
  stream << program << ": " << line << std::endl;
}

void mail_admins(const VeeamCommandEnv& env, const std::string& program, const std::string& subject,
                 const std::string& body) {
  const Email mail = compose_notice(env.config, env.host + ": " + program + ": " + subject, body);
  if (mail.to.empty()) {
    say(env.err, program,
        "warning: no mail sent: no sysop address is configured ([Mail] to-mail-addresses-sysop)");
    return;
  }
  const MailResult result = env.mailer.send(mail);
  if (!result.sent)
    say(env.err, program,
        "warning: the mail to the admins could not be sent (" + result.error + ")" +
            (result.kept_in_outbox ? "; it is kept and sent with the next mail" : ""));
  for (const auto& warning : result.warnings) say(env.err, program, "warning: " + warning);
  if (!result.unkept.empty()) say(env.err, program, "the mail that could not be kept:\n" + result.unkept);
}

void warn_expired(const VeeamCommandEnv& env, const std::string& program, const std::vector<Lease>& expired) {
  const std::int64_t now = env.clock.now_unix();
  for (const auto& lease : expired)
    say(env.err, program,
        "warning: removed an expired lease, " + describe_lease(lease, now) +
            ": its post-job script never ran");
}

// The binaries check --job before anything else; this guards the other callers.
bool usable_job_name(const VeeamCommandEnv& env, const std::string& program, const std::string& job) {
  const auto problem = job_name_problem(job);
  if (problem) say(env.err, program, "bad --job: " + *problem);
  return !problem;
}

std::string paragraphs(std::initializer_list<std::string> parts) {
  std::string text;
  for (const auto& part : parts) {
    if (!text.empty()) text += "\n\n";
    text += part;
  }
  return text + "\n";
}

std::string lease_dir(const VeeamCommandEnv& env) { return quoted(env.config.veeam_lockfiles); }

std::string seconds_text(std::chrono::milliseconds elapsed) {
  return format_duration((elapsed.count() + 500) / 1000);
}

struct WaitEnd {
  bool left = false;
  std::chrono::milliseconds waited{0};
  std::string probe_error;  // the last failure to read the copier's state, if any
};

// Polls until the copier no longer holds the repository or `limit` has passed. A failing
// probe counts as "still there": the safe reading when we cannot tell.
WaitEnd wait_for_copier(const VeeamCommandEnv& env, std::chrono::milliseconds limit,
                        std::chrono::milliseconds poll) {
  WaitEnd end;
  const auto start = env.clock.monotonic();
  for (;;) {
    end.waited = env.clock.monotonic() - start;
    try {
      if (!env.store.copier_state().active) {
        end.left = true;
        return end;
      }
    } catch (const std::exception& e) {
      end.probe_error = e.what();
    }
    if (end.waited >= limit) return end;
    env.clock.sleep(std::min(poll, limit - end.waited));
  }
}

std::string lease_body(const VeeamCommandEnv& env, const LeaseCreated& created) {
  std::string body = "Lease: " + describe_lease(created.lease, env.clock.now_unix()) + "\n";
  body += "Lease directory: " + lease_dir(env) + "\n";
  body += "Copier: " + describe_copier(created.copier);
  return body;
}

int lock_failed(const VeeamCommandEnv& env, const std::string& job, const std::string& what) {
  const std::string line = "ERROR: could not create the lease of Veeam job " + quoted(job) + " in " +
                           lease_dir(env) + ": " + what +
                           "; a copy to a USB disk may read the repository while this job writes it";
  say(env.err, "veeam-lock", line);
  mail_admins(
      env, "veeam-lock", "no lease for Veeam job " + quoted(job),
      paragraphs({line + ".",
                  "Check that the directory exists and is writable by the user the ssh key logs in as, "
                  "and the config file " +
                      quoted(env.config.path) +
                      ". Until this is fixed, copies and this Veeam job are not kept apart."}));
  return kExitFailed;
}

int wait_for_pause(const VeeamCommandEnv& env, const std::string& job, const LeaseCreated& created) {
  say(env.out, "veeam-lock",
      describe_copier(created.copier) + " is reading the repository; asking it to pause");
  const WaitEnd end = wait_for_copier(env, kCopierPauseTimeout, kYieldPoll);
  if (end.left) {
    say(env.out, "veeam-lock",
        "copy paused after " + seconds_text(end.waited) + "; lease taken for job " + quoted(job) +
            " (expires " + format_utc(created.lease.expires_at) + ")");
    return kExitOk;
  }
  // The lease stays. Veeam Agents start the backup whatever the pre-job script returns,
  // so Veeam may well write now; the lease makes the copier pause the moment it looks, and
  // keeps any copier from starting, until veeam-unlock or expiry. Removing it would let
  // the copier go on reading while Veeam writes.
  const std::string line = "ERROR: " + describe_copier(created.copier) + " did not pause within " +
                           format_duration(kCopierPauseTimeout.count()) +
                           (end.probe_error.empty() ? "" : " (" + end.probe_error + ")") +
                           "; the lease of job " + quoted(job) +
                           " stays, so the copy pauses as soon as it notices it; check the copier's log "
                           "(journalctl -u 'usb-backup-copier@*')";
  say(env.err, "veeam-lock", line);
  mail_admins(
      env, "veeam-lock", "the copy did not pause for Veeam job " + quoted(job),
      paragraphs({line + ".",
                  "The Veeam job may have written the repository while the copy was still reading it: "
                  "treat that disk's copy as suspect and copy it again.",
                  lease_body(env, created)}));
  return kExitTempFail;
}

int wait_for_finish(const VeeamCommandEnv& env, const std::string& job, const LeaseCreated& created) {
  const int minutes = env.config.wait_for_backup_minutes;
  if (minutes >= kVeeamScriptTimeoutMinutes)
    say(env.err, "veeam-lock",
        "warning: wait-for-backup-minutes = " + std::to_string(minutes) +
            " reaches Veeam's script timeout (" + std::to_string(kVeeamScriptTimeoutMinutes) +
            " min by default); Veeam may stop this script first");
  say(env.out, "veeam-lock",
      describe_copier(created.copier) + " is running and copy-yields-to-veeam = no: waiting up to " +
          std::to_string(minutes) + " min for it to finish");
  const WaitEnd end = wait_for_copier(env, std::chrono::minutes(minutes), kFinishPoll);
  if (end.left) {
    say(env.out, "veeam-lock",
        "the copy finished after " + seconds_text(end.waited) + "; lease taken for job " + quoted(job) +
            " (expires " + format_utc(created.lease.expires_at) + ")");
    return kExitOk;
  }
  // The copy goes on, so this job must not write now: take the lease back, or it would
  // keep the next copy waiting for a backup that is not running.
  std::string removal = "lease removed";
  try {
    if (!env.store.remove_lease(created.lease)) removal = "lease was already gone";
  } catch (const std::exception& e) {
    removal =
        "the lease could not be removed (" + std::string(e.what()) + ") and blocks copies until it expires";
  }
  const std::string line = "ERROR: gave up after waiting " + std::to_string(minutes) + " min for " +
                           describe_copier(created.copier) + " to finish; " + removal + "; Veeam job " +
                           quoted(job) + " should not write the repository now: run it again after the copy";
  say(env.err, "veeam-lock", line);
  mail_admins(
      env, "veeam-lock", "Veeam job " + quoted(job) + " gave up waiting for a copy",
      paragraphs({line + ".",
                  "With copy-yields-to-veeam = no the copy to the USB disk goes first. Let copies yield "
                  "(copy-yields-to-veeam = yes), raise wait-for-backup-minutes (below Veeam's script "
                  "timeout), or plug disks in outside the backup window.",
                  lease_body(env, created)}));
  return kExitTempFail;
}

}  // namespace

std::string describe_copier(const CopierState& copier) {
  std::string out =
      copier.disk.empty() ? std::string("a copy to a USB disk") : "the copy to disk " + copier.disk;
  if (copier.pid > 0) out += " (pid " + std::to_string(copier.pid) + ")";
  return out;
}

int run_veeam_lock(const VeeamCommandEnv& env, const std::string& job) {
  if (!usable_job_name(env, "veeam-lock", job)) return kExitUsage;
  LeaseCreated created;
  try {
    created = env.store.create_lease(job);
  } catch (const std::exception& e) {
    return lock_failed(env, job, e.what());
  }
  warn_expired(env, "veeam-lock", created.expired);
  if (created.copier.active)
    return env.config.copy_yields_to_veeam ? wait_for_pause(env, job, created)
                                           : wait_for_finish(env, job, created);
  std::string line = "lease taken for job " + quoted(job) + " (expires " +
                     format_utc(created.lease.expires_at) + "); no copy is reading the repository";
  if (!created.others.empty()) line += "; other leases: " + summarize_jobs(created.others);
  say(env.out, "veeam-lock", line);
  return kExitOk;
}

int run_veeam_unlock(const VeeamCommandEnv& env, const std::string& job) {
  if (!usable_job_name(env, "veeam-unlock", job)) return kExitUsage;
  LeaseRemoval removal;
  try {
    removal = env.store.remove_oldest_lease(job);
  } catch (const std::exception& e) {
    const std::string line = "ERROR: could not remove the lease of Veeam job " + quoted(job) + " in " +
                             lease_dir(env) + ": " + e.what() + "; copies wait for it until it expires (" +
                             std::to_string(env.config.veeam_lease_ttl_hours) + " h after it was taken)";
    say(env.err, "veeam-unlock", line);
    mail_admins(
        env, "veeam-unlock", "lease of Veeam job " + quoted(job) + " not removed",
        paragraphs(
            {line + ".", "Remove it by hand ('veeam-lock --list' shows the files) once the job is done."}));
    return kExitFailed;
  }
  warn_expired(env, "veeam-unlock", removal.expired);
  if (!removal.removed) {
    say(env.err, "veeam-unlock",
        "warning: job " + quoted(job) +
            " holds no lease (already removed, expired, or its veeam-lock failed); nothing to do");
    return kExitOk;
  }
  const int same_job = count_by_job(removal.live)[job];
  std::string line = "lease of job " + quoted(job) + " removed after " +
                     format_duration(env.clock.now_unix() - removal.removed->created_at);
  if (same_job > 0) line += "; " + std::to_string(same_job) + " more of this job remain";
  line += removal.live.empty() ? "; no Veeam job holds the repository now"
                               : "; still held by " + summarize_jobs(removal.live);
  say(env.out, "veeam-unlock", line);
  return kExitOk;
}

int run_veeam_list(const VeeamCommandEnv& env) {
  LeaseListing listing;
  try {
    listing = env.store.list_leases();
  } catch (const std::exception& e) {
    say(env.err, "veeam-lock", "ERROR: could not read the leases in " + lease_dir(env) + ": " + e.what());
    return kExitFailed;
  }
  warn_expired(env, "veeam-lock", listing.expired);
  const std::int64_t now = env.clock.now_unix();
  if (listing.live.empty()) {
    env.out << "No Veeam leases in " << lease_dir(env) << ".\n";
  } else {
    env.out << listing.live.size() << (listing.live.size() == 1 ? " Veeam lease" : " Veeam leases") << " in "
            << lease_dir(env) << ":\n";
    for (const auto& lease : listing.live)
      env.out << "  " << describe_lease(lease, now) << "  [" << lease.file << "]\n";
  }
  env.out << (listing.copier.active
                  ? "Copier: " + describe_copier(listing.copier) + " is reading the repository.\n"
                  : std::string("Copier: no copy is reading the repository.\n"))
          << std::flush;
  return kExitOk;
}

}  // namespace ubc
